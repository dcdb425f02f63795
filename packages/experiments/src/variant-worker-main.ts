/** Entry point of a variant's child process: `node variant-worker-main.js VARIANT_DIR`. */
import { runVariant } from './variant-worker.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: variant-worker-main VARIANT_DIR\n');
  process.exit(2);
}
try {
  await runVariant(dir);
  process.exitCode = 0;
} catch (error) {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
}
// Let the IPC channel flush, then leave even if ORT keeps a handle open.
process.disconnect?.();
