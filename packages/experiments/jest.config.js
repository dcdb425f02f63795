import { jestConfig } from '../../jest.config.base.js';
import { withOnnxRuntime } from '../graph/jest.config.js';

// ORT-running suites: share typed arrays with ORT's realm and load its native binding once per process.
export default withOnnxRuntime(jestConfig(import.meta.dirname));
