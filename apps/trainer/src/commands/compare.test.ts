/** cs336 compare: two real tiny runs, their differing field found, files written; bad input refused first. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { train } from '@cs336/train';
import { UsageError } from '../command.js';
import { capture } from '../../test/capture.js';
import { TINY_MODEL, writeTokens } from '../../test/tiny-run.js';
import { compareCommand } from './compare.js';

let dir: string;
let runs: string[];
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-compare-'));
  const trainData = writeTokens(path.join(dir, 'train.bin'), 4000);
  const validationData = writeTokens(path.join(dir, 'valid.bin'), 900, 13);
  runs = [path.join(dir, 'lr-hi'), path.join(dir, 'lr-lo')];
  for (const [i, lr] of [1e-2, 1e-3].entries()) {
    await train({ model: TINY_MODEL, train: { runDir: runs[i]!, trainData, validationData, steps: 8, stepsPerRun: 4, batchSize: 4, warmupSteps: 1, maxLearningRate: lr, minLearningRate: lr / 10, threads: 1, evalEvery: 4, evalBatches: 2, checkpointEvery: 8 } });
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('cs336 compare', () => {
  it('names the fields the runs differ in and writes the report and plots', async () => {
    const out = path.join(dir, 'cmp');
    const { code, stdout } = await capture(() => compareCommand.run([...runs, '--out', out, '--names', 'high,low']));
    expect(code).toBe(0);
    expect(stdout).toMatch(/^high: 8 steps, final val loss \d\.\d{4}/m);
    expect(stdout).toContain('differ in: train.maxLearningRate, train.minLearningRate');
    expect(fs.readdirSync(out).sort()).toEqual(['compare.html', 'compare.md', 'train-loss.png', 'train-loss.svg', 'validation-loss.png', 'validation-loss.svg']);
  });

  it('refuses a folder without metrics, wrong --names and unknown flags as usage errors, writing nothing', async () => {
    const out = path.join(dir, 'never');
    await expect(compareCommand.run([runs[0]!, dir, '--out', out])).rejects.toThrow(new UsageError(`${dir}: not a training run (no metrics.jsonl; cs336 train --run-dir writes one)`));
    await expect(compareCommand.run([...runs, '--names', 'only-one', '--out', out])).rejects.toThrow(/--names: 1 names for 2 runs/);
    await expect(compareCommand.run([...runs, '--names', 'x,x', '--out', out])).rejects.toThrow(/--names: names repeat/);
    await expect(compareCommand.run([...runs, '--smooth', '3'])).rejects.toBeInstanceOf(UsageError);
    await expect(compareCommand.run([])).rejects.toThrow(/give at least one run folder/);
    expect(fs.existsSync(out)).toBe(false);
  });
});
