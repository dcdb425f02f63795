import { jestConfig } from '../../jest.config.base.js';
import { withOnnxRuntime } from '../../packages/graph/jest.config.js';

// Some suites run ONNX Runtime in-process (account, doctor): share typed arrays with ORT's realm.
export default withOnnxRuntime(jestConfig(import.meta.dirname));
