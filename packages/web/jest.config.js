import { jestConfig } from '../../jest.config.base.js';
import { withOnnxRuntime } from '../graph/jest.config.js';

// The export test trains a tiny model and runs it with onnxruntime-node before opening the page.
export default withOnnxRuntime(jestConfig(import.meta.dirname));
