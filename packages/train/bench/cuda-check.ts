/**
 * On the accelerator machine: does a CUDA session run on the onnxruntime-node beside this bundle?
 * Prints one JSON line ({loads, error?, binaryDir}) and exits 0 when it loads, 1 when not.
 */
import { checkCudaProviderLoads, onnxruntimeBinaryDir } from '@cs336/graph';

const binaryDir = onnxruntimeBinaryDir();
const result = await checkCudaProviderLoads(binaryDir);
console.log(JSON.stringify({ ...result, binaryDir }));
process.exit(result.loads ? 0 : 1);
