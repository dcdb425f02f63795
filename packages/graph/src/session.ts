/**
 * A thin, typed layer over onnxruntime-node's InferenceSession.
 *
 * It checks feeds before ORT sees them (missing, unused, wrong dtype or rank → an error naming the
 * input), wraps typed arrays without copying, and on `device: 'cuda'` checks for the CUDA provider
 * libraries first, so a missing install is reported with the command that fixes it rather than as
 * a native load failure.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { checkConfigFields, type ConfigFieldType } from './config-fields.js';
import { GraphBuilder } from './graph-builder.js';
import type { DType, Dim, HostTensor, TypedArray } from './value.js';
import { DTYPES, ONNX_ELEMENT_TYPE, elementCount, formatShape } from './value.js';
import { decodeModel } from './onnx-proto.js';

export type Device = 'cpu' | 'cuda';
export type OptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface SessionOptions {
  /** Execution provider. Default 'cpu'. */
  device?: Device;
  /** Intra-op threads; default lets ORT choose (one per physical core). */
  threads?: number;
  /** ORT graph optimization level. Default 'all'. */
  optimizationLevel?: OptimizationLevel;
  /** Where ORT writes the model after its optimizations (to inspect fusions). */
  optimizedModelPath?: string;
  /** Writes ORT's per-node timing profile (chrome-trace JSON) to `<prefix>_<date>.json` on release. */
  profilePrefix?: string;
  /**
   * ORT graph transformers to skip, by name (e.g. 'MatMulScaleFusion'). Float64 models always skip
   * FLOAT64_DISABLED_OPTIMIZERS on top of these.
   */
  disabledOptimizers?: readonly string[];
  /** ORT's `session.use_deterministic_compute`: kernels that have a deterministic variant use it. */
  deterministicCompute?: boolean;
}

/**
 * Transformers that lose float64 precision. MatMulScaleFusion folds a Mul/Div by a scalar constant
 * next to a MatMul into FusedMatMul's `alpha`, a float32 attribute: attention's 1/√dk is then rounded
 * to float32 (relative error ~1e-8) unless dk is a power of four. ORT 1.29.0 does this for double
 * MatMuls too (later ORT versions skip the fusion when the scale does not fit a float).
 */
export const FLOAT64_DISABLED_OPTIMIZERS: readonly string[] = Object.freeze(['MatMulScaleFusion']);

export const DEFAULT_SESSION_OPTIONS: Readonly<SessionOptions> = Object.freeze({ device: 'cpu', optimizationLevel: 'all' });

const OPTIMIZATION_LEVELS: readonly OptimizationLevel[] = ['disabled', 'basic', 'extended', 'all'];

const SESSION_OPTION_FIELDS: Readonly<Record<keyof SessionOptions, ConfigFieldType>> = {
  // device and optimizationLevel: strings here; resolveSessionOptions' own messages list the accepted values.
  device: 'string', threads: 'number', optimizationLevel: 'string', optimizedModelPath: 'string', profilePrefix: 'string',
  disabledOptimizers: 'string[]', deterministicCompute: 'boolean',
};

/** Fills defaults and validates; errors name the bad value and the accepted ones. */
export function resolveSessionOptions(options: SessionOptions = {}): Readonly<SessionOptions & { device: Device; optimizationLevel: OptimizationLevel }> {
  checkConfigFields('Session', options, SESSION_OPTION_FIELDS);
  const resolved = { ...DEFAULT_SESSION_OPTIONS, ...options } as SessionOptions & { device: Device; optimizationLevel: OptimizationLevel };
  if (resolved.device !== 'cpu' && resolved.device !== 'cuda') throw new Error(`Session: device '${String(resolved.device)}' is not supported; use 'cpu' or 'cuda'`);
  if (!OPTIMIZATION_LEVELS.includes(resolved.optimizationLevel)) {
    throw new Error(`Session: optimizationLevel '${String(resolved.optimizationLevel)}' is not one of ${OPTIMIZATION_LEVELS.join(', ')}`);
  }
  if (resolved.threads !== undefined && !(Number.isInteger(resolved.threads) && resolved.threads >= 1)) {
    throw new Error(`Session: threads ${resolved.threads} must be a positive integer (or omitted to let ORT choose)`);
  }
  return Object.freeze(resolved);
}

/** What a graph input expects: dtype and (partly symbolic) shape. */
export interface InputSignature {
  name: string;
  dtype: DType;
  shape: readonly Dim[];
}

export const CUDA_PROVIDER_PACKAGE = 'com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9';
export const CUDA_PROVIDER_FILES = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'] as const;

/** Folder holding onnxruntime-node's native binding and libonnxruntime.so.1 for this platform. */
export function onnxruntimeBinaryDir(): string {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('onnxruntime-node'); // <pkg>/dist/index.js
  return path.join(path.dirname(path.dirname(entry)), 'bin', 'napi-v6', process.platform, process.arch);
}

/**
 * CUDA was asked for and cannot be used here. `reason` says why and how to fix it; the message adds
 * the library's way out (`device: 'cpu'`), which a command line can replace with its own flag.
 */
export class CudaUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`${reason} Or use device: 'cpu'.`);
    this.name = 'CudaUnavailableError';
  }
}

/**
 * Throws a CudaUnavailableError naming the missing CUDA provider files and the command that installs them, or
 * returns when they are present.
 */
export function assertCudaProviderInstalled(binaryDir = onnxruntimeBinaryDir()): void {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new CudaUnavailableError(`device 'cuda' is only wired up for linux-x64 here (this is ${process.platform}-${process.arch}).`);
  }
  const missing = CUDA_PROVIDER_FILES.filter((file) => !fs.existsSync(path.join(binaryDir, file)));
  if (missing.length === 0) return;
  const fix = [
    `tmp=$(mktemp -d) && cd "$tmp" && npm pack ${CUDA_PROVIDER_PACKAGE}`,
    `tar xzf *.tgz`,
    `find package -name 'libonnxruntime_providers_*.so' -exec cp {} '${binaryDir}/' \\;`,
  ].join(' && ');
  throw new CudaUnavailableError(
    `device 'cuda' needs the ONNX Runtime CUDA execution provider, but ${missing.join(' and ')} ` +
      `${missing.length > 1 ? 'are' : 'is'} missing from ${binaryDir} (they must sit next to libonnxruntime.so.1). ` +
      `onnxruntime-node ships the CPU provider only. Fix: \`cs336 setup cuda\` (installCudaProvider() of @cs336/graph), or by hand: ${fix} ` +
      `(the provider is built for ORT 1.29.0 and CUDA 13, and needs the CUDA 13 and cuDNN 9 libraries on the library path).`,
  );
}

function isDType(type: string): type is DType {
  return (DTYPES as readonly string[]).includes(type);
}

export class Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputs: readonly InputSignature[];
  private readonly inputByName: ReadonlyMap<string, InputSignature>;

  private constructor(private readonly session: ort.InferenceSession, private readonly profiling = false) {
    this.inputNames = session.inputNames;
    this.outputNames = session.outputNames;
    this.inputs = session.inputMetadata.map((meta) => {
      const type = meta.isTensor ? meta.type : 'unknown';
      if (!isDType(type)) throw new Error(`Session: input "${meta.name}" has element type ${type}, which @cs336/graph does not support`);
      return { name: meta.name, dtype: type, shape: meta.isTensor ? meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : String(d))) : [] };
    });
    this.inputByName = new Map(this.inputs.map((s) => [s.name, s]));
  }

  static async create(model: Uint8Array | GraphBuilder, options: SessionOptions = {}): Promise<Session> {
    const resolved = resolveSessionOptions(options);
    if (resolved.device === 'cuda') assertCudaProviderInstalled();
    const bytes = model instanceof GraphBuilder ? model.toModel() : model;
    const disabled = new Set(resolved.disabledOptimizers ?? []);
    if (modelUsesFloat64(bytes)) for (const name of FLOAT64_DISABLED_OPTIMIZERS) disabled.add(name);
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: [resolved.device],
      graphOptimizationLevel: resolved.optimizationLevel,
      // Errors only: ORT's warnings (e.g. about saving an optimized model) are noise for library users.
      logSeverityLevel: 3,
    };
    if (resolved.threads !== undefined) sessionOptions.intraOpNumThreads = resolved.threads;
    if (resolved.optimizedModelPath) sessionOptions.optimizedModelFilePath = resolved.optimizedModelPath;
    // Session config entries, flattened by the Node binding into "optimization.disable_specified_optimizers" etc.
    const extra: Record<string, Record<string, string>> = {};
    if (disabled.size > 0) extra['optimization'] = { disable_specified_optimizers: [...disabled].join(';') };
    if (resolved.deterministicCompute) extra['session'] = { use_deterministic_compute: '1' };
    if (Object.keys(extra).length > 0) sessionOptions.extra = extra;
    if (resolved.profilePrefix) Object.assign(sessionOptions, { enableProfiling: true, profileFilePrefix: resolved.profilePrefix });
    return new Session(await ort.InferenceSession.create(bytes, sessionOptions), resolved.profilePrefix !== undefined);
  }

  /** Runs the model. `fetches` defaults to every output; results are keyed by output name. */
  async run(feeds: Record<string, HostTensor>, fetches?: readonly string[]): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const name of Object.keys(feeds)) {
      if (!this.inputByName.has(name)) {
        throw new Error(`Session.run: feed "${name}" is not an input of this model; inputs are ${this.inputNames.join(', ')}`);
      }
    }
    for (const signature of this.inputs) {
      const tensor = feeds[signature.name];
      if (!tensor) {
        throw new Error(`Session.run: missing feed "${signature.name}" (${signature.dtype}${formatShape(signature.shape)})`);
      }
      checkFeed(signature, tensor);
      ortFeeds[signature.name] = new ort.Tensor(tensor.dtype, tensor.data as ort.Tensor.DataType, tensor.dims);
    }
    if (fetches) {
      for (const name of fetches) {
        if (!this.outputNames.includes(name)) throw new Error(`Session.run: fetch "${name}" is not an output; outputs are ${this.outputNames.join(', ')}`);
      }
    }
    const results = fetches ? await this.session.run(ortFeeds, fetches) : await this.session.run(ortFeeds);
    const out: Record<string, HostTensor> = {};
    for (const [name, tensor] of Object.entries(results)) {
      if (!isDType(tensor.type)) throw new Error(`Session.run: output "${name}" has element type ${tensor.type}, which @cs336/graph does not support`);
      out[name] = { dtype: tensor.type, dims: tensor.dims, data: tensor.data as TypedArray };
    }
    return out;
  }

  async release(): Promise<void> {
    if (this.profiling) this.session.endProfiling();
    await this.session.release();
  }
}

const ONNX_DOUBLE = ONNX_ELEMENT_TYPE.float64;

/**
 * True when a graph input or output is float64: what marks a float64 model here. Float64 hidden
 * behind float32 inputs and outputs does not count (the training graph's AdamW computes its bias
 * corrections as float64 scalars, and its float32 MatMuls should keep the fusion).
 */
export function modelUsesFloat64(bytes: Uint8Array): boolean {
  const { graph } = decodeModel(bytes);
  return [...graph.input, ...graph.output].some((v) => v.type?.tensorType?.elemType === ONNX_DOUBLE);
}

function checkFeed(signature: InputSignature, tensor: HostTensor): void {
  const where = `Session.run: feed "${signature.name}"`;
  if (tensor.dtype !== signature.dtype) {
    throw new Error(`${where} is ${tensor.dtype} but the input is ${signature.dtype}${formatShape(signature.shape)}; convert the data`);
  }
  if (tensor.dims.length !== signature.shape.length) {
    throw new Error(`${where} has shape ${formatShape(tensor.dims)} but the input is ${signature.dtype}${formatShape(signature.shape)} (rank differs)`);
  }
  signature.shape.forEach((d, i) => {
    if (typeof d === 'number' && tensor.dims[i] !== d) {
      throw new Error(`${where} has shape ${formatShape(tensor.dims)} but the input is ${formatShape(signature.shape)} (dim ${i} must be ${d})`);
    }
  });
  if (tensor.data.length !== elementCount(tensor.dims)) {
    throw new Error(`${where}: data has ${tensor.data.length} elements but dims ${formatShape(tensor.dims)} need ${elementCount(tensor.dims)}`);
  }
}

/** Builds a session for `g`, runs it once with `feeds`, releases it, and returns every output. */
export async function runGraph(g: GraphBuilder, feeds: Record<string, HostTensor>, options?: SessionOptions): Promise<Record<string, HostTensor>> {
  const session = await Session.create(g, options);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}
