/**
 * The variant worker from source, for the runner tests (run with `node --import tsx`). STEP_DELAY_MS
 * holds each step that long, so a SIGKILL sent on a checkpoint lands well before the variant could
 * finish, however fast the machine (it changes no numbers).
 */
import { runVariant } from '../src/variant-worker.js';

const delay = Number(process.env.STEP_DELAY_MS ?? 0);
await runVariant(process.argv[2]!, {
  onStep: () => {
    if (delay > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, delay);
  },
});
process.disconnect?.();
