/**
 * Runs train() in a child process for the exact-resume tests: argv[2] is a JSON TrainRunConfig.
 * Prints "step N" after each step (the parent interrupts on these) and "done STEP" at the end.
 */
import { train } from '../src/train.js';

const config = JSON.parse(process.argv[2]!);
const result = await train(config, {
  handleSignals: true,
  onStep: (record) => process.stdout.write(`step ${record.step}\n`),
});
process.stdout.write(`done ${result.step}\n`);
