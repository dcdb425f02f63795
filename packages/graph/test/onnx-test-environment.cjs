// Jest environment for suites that run onnxruntime-node. Two problems it solves:
//
// 1. Realms. Jest runs each test file in a vm context with its own Float32Array etc., while ORT's
//    native binding makes output arrays in Node's main realm, so onnxruntime-common's `instanceof`
//    checks fail ("A float32 tensor's data must be type of function Float32Array()").
//    jest-environment-node already shares Uint8Array and ArrayBuffer for the same reason; this
//    shares the other typed arrays too.
// 2. One native init per process. Jest re-evaluates node_modules for every test file, and the
//    binding's second init aborts the worker (napi_add_env_cleanup_hook assertion). So ORT is
//    loaded once here, outside the sandbox, and test code reaches it through
//    test/onnxruntime-shim.cjs (mapped to 'onnxruntime-node' in jest.config.js).
const { createRequire } = require('node:module');

function resolveFrom(chain) {
  let from = __filename;
  for (const id of chain) from = createRequire(from).resolve(id);
  return from;
}
// jest-environment-node is not hoisted under pnpm; reach it through jest's own dependency chain.
const NodeEnvironment = require(resolveFrom(['jest', 'jest-cli', 'jest-config', 'jest-environment-node'])).TestEnvironment;
const ORT_PATH = createRequire(require.resolve('../package.json')).resolve('onnxruntime-node');

const SHARED = ['Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'Uint8ClampedArray'];

class OnnxTestEnvironment extends NodeEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
    // Loaded lazily (and once per process, by Node's require cache) on first use.
    Object.defineProperty(this.global, '__cs336_onnxruntime', { get: () => require(ORT_PATH), configurable: true });
  }
}

module.exports = OnnxTestEnvironment;
