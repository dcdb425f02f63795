import { jestConfig } from '../../jest.config.base.js';

// The graph package's environment shares Node's typed-array constructors with the test vm, which
// onnxruntime-node needs (see packages/graph/test/onnx-test-environment.cjs).
export default { ...jestConfig(import.meta.dirname), testEnvironment: '<rootDir>/../graph/test/onnx-test-environment.cjs' };
