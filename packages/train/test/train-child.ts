/**
 * Runs train() in a child process for the exact-resume tests: argv[2] is a JSON TrainRunConfig.
 * Prints "step N" after each step (the parent interrupts on these) and "done STEP" at the end.
 * STEP_DELAY_MS holds each step's report that long, so a signal sent on "step N" lands well before
 * the run could finish, however fast the machine (it changes no numbers).
 */
import { train } from '../src/train.js';

const config = JSON.parse(process.argv[2]!);
const delay = Number(process.env.STEP_DELAY_MS ?? 0);
const result = await train(config, {
  handleSignals: true,
  onStep: (record) => {
    process.stdout.write(`step ${record.step}\n`);
    if (delay > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, delay);
  },
});
process.stdout.write(`done ${result.step}\n`);
