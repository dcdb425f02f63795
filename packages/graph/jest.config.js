import path from 'node:path';
import { jestConfig } from '../../jest.config.base.js';

/**
 * Jest settings for any package whose tests run onnxruntime-node: a test environment that shares
 * typed-array constructors with ORT and loads ORT once per process (see test/onnx-test-environment.cjs).
 */
export function withOnnxRuntime(config) {
  const here = import.meta.dirname;
  return {
    ...config,
    testEnvironment: path.join(here, 'test/onnx-test-environment.cjs'),
    moduleNameMapper: { '^onnxruntime-node$': path.join(here, 'test/onnxruntime-shim.cjs'), ...config.moduleNameMapper },
  };
}

export default withOnnxRuntime(jestConfig(import.meta.dirname));
