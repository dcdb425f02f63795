import { jestConfig } from '../../jest.config.base.js';

// ORT returns typed arrays from the main realm; graph's test environment shares them with the test realm.
export default { ...jestConfig(import.meta.dirname), testEnvironment: '<rootDir>/../graph/test/onnx-test-environment.cjs' };
