/** cs336 eval: a checkpoint's loss on a token file equals what its training run logged for the same windows. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readMetrics, train } from '@cs336/train';
import { UsageError } from '../command.js';
import { capture } from '../../test/capture.js';
import { TINY_MODEL, writeTokens } from '../../test/tiny-run.js';
import { evalCommand } from './eval.js';

let dir: string;
let runDir: string;
let valid: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-eval-'));
  const trainData = writeTokens(path.join(dir, 'train.bin'), 4000);
  valid = writeTokens(path.join(dir, 'valid.bin'), 900, 13);
  runDir = path.join(dir, 'run');
  await train({ model: TINY_MODEL, train: { runDir, trainData, validationData: valid, steps: 8, stepsPerRun: 4, batchSize: 4, warmupSteps: 1, threads: 1, evalEvery: 4, evalBatches: 3, checkpointEvery: 8 } });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('cs336 eval', () => {
  it("prints the run's logged validation loss for its batches, and exp(loss) as perplexity", async () => {
    const logged = readMetrics(path.join(runDir, 'metrics.jsonl')).at(-1)!;
    const { code, stdout } = await capture(() => evalCommand.run(['--checkpoint', runDir, '--data', valid, '--batches', '3', '--threads', '1', '--json']));
    expect(code).toBe(0);
    const r = JSON.parse(stdout);
    expect(r).toMatchObject({ step: 8, batches: 3, batchSize: 4, contextLength: 16, tokens: 3 * 4 * 16 });
    expect(r.loss).toBe(logged.valLoss);
    expect(r.perplexity).toBeCloseTo(Math.exp(r.loss), 10);
  });

  it('--batches all covers every full batch of the file; the text line names loss and perplexity', async () => {
    const { stdout } = await capture(() => evalCommand.run(['--checkpoint', runDir, '--data', valid, '--batch-size', '2', '--threads', '1']));
    const batches = Math.floor(Math.floor((900 - 1) / 16) / 2);
    expect(stdout).toMatch(new RegExp(`step 8\\) on .*valid\\.bin: loss \\d+\\.\\d{4} nats/token, perplexity \\d+\\.\\d{2} \\(${batches} batches × 2 × 16`));
  });

  it('refuses missing or bad flags with usage errors (exit 2) and a missing checkpoint as a failure', async () => {
    await expect(evalCommand.run(['--data', valid])).rejects.toThrow(/--checkpoint and --data are required/);
    await expect(evalCommand.run(['--checkpoint', runDir, '--data', valid, '--batches', 'some'])).rejects.toThrow(UsageError);
    await expect(evalCommand.run(['--checkpoint', runDir, '--data', valid, '--device', 'tpu'])).rejects.toThrow(/--device must be cpu or cuda/);
    await expect(evalCommand.run(['--checkpoint', runDir, '--data', valid, '--context', '17'])).rejects.toThrow(new UsageError('evaluate: contextLength must be an integer in [1, 16] (the model\'s context), got 17'));
    await expect(evalCommand.run(['--checkpoint', runDir, '--data', valid, '--context', '17'])).rejects.toBeInstanceOf(UsageError);
    const missing = await evalCommand.run(['--checkpoint', path.join(dir, 'nope'), '--data', valid]).catch((e: unknown) => e);
    expect(missing).not.toBeInstanceOf(UsageError); // a failure while running: exit 1
    expect((missing as Error).message).toMatch(/no checkpoint at/);
  });
});
