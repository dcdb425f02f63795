/**
 * evaluateCheckpoint / evaluateLoss: the loss the training loop logged (at step 0 and at the end) for the
 * same file and batches, and a float64 cross-entropy computed here from the reference forward.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initParameters, referenceTransformerLm, resolveTransformerConfig } from '@cs336/nn';
import { loadCheckpoint } from './checkpoint.js';
import { evaluateCheckpoint, evaluateLoss } from './evaluate.js';
import { readMetrics } from './metrics.js';
import { TokenFile } from './token-file.js';
import { train } from './train.js';
import { TINY_MODEL, writeTokenFile } from '../test/tiny-run.js';

let dir: string;
let runDir: string;
let validationData: string;
const B = 4;
const BATCHES = 2;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evaluate-'));
  const trainData = writeTokenFile(path.join(dir, 'train.bin'), 4000, 1);
  validationData = writeTokenFile(path.join(dir, 'valid.bin'), 1000, 2);
  runDir = path.join(dir, 'run');
  await train({ model: TINY_MODEL, train: { runDir, trainData, validationData, steps: 12, stepsPerRun: 4, batchSize: B, evalEvery: 4, evalBatches: BATCHES, checkpointEvery: 12, warmupSteps: 2, maxLearningRate: 1e-2, threads: 1, seed: 3 } });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Mean over every predicted position of −log softmax(logits)[target], all in float64. */
function referenceLoss(weights: Record<string, Float32Array>, tokens: TokenFile, batchSize: number, T: number, batches: number): number {
  const V = TINY_MODEL.vocabSize;
  let sum = 0;
  for (let batch = 0; batch < batches; batch++) {
    let batchSum = 0;
    for (let b = 0; b < batchSize; b++) {
      const window = new BigInt64Array(T + 1);
      tokens.read((batch * batchSize + b) * T, T + 1, window, 0);
      const ids = Array.from(window, Number);
      const logits = referenceTransformerLm(resolveTransformerConfig(TINY_MODEL), weights, ids.slice(0, T), 1, T);
      for (let t = 0; t < T; t++) {
        const row = logits.subarray(t * V, (t + 1) * V);
        const max = Math.max(...row);
        const logSum = Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0)) + max;
        batchSum += logSum - row[ids[t + 1]!]!;
      }
    }
    sum += batchSum / (batchSize * T);
  }
  return sum / batches;
}

describe('evaluateCheckpoint', () => {
  it("equals the validation loss the training loop logged at the end, for the run's file and batches", async () => {
    const logged = readMetrics(path.join(runDir, 'metrics.jsonl')).at(-1)!;
    expect(logged.step).toBe(12);
    const result = await evaluateCheckpoint(runDir, validationData, { batches: BATCHES, threads: 1 });
    expect(result).toMatchObject({ step: 12, batches: BATCHES, batchSize: B, contextLength: TINY_MODEL.contextLength, tokens: BATCHES * B * TINY_MODEL.contextLength });
    expect(result.loss).toBe(logged.valLoss);
    expect(result.perplexity).toBeCloseTo(Math.exp(logged.valLoss!), 12);
  });

  it('equals a float64 cross-entropy over the same windows from the reference forward', async () => {
    const weights = Object.fromEntries([...loadCheckpoint(runDir).parameters].map(([n, t]) => [n, t.data as Float32Array]));
    const tokens = TokenFile.open(validationData);
    try {
      for (const [batchSize, batches] of [[B, BATCHES], [3, 'all']] as const) {
        const result = await evaluateCheckpoint(runDir, validationData, { batchSize, batches, threads: 1 });
        const all = Math.floor(Math.floor((1000 - 1) / 8) / batchSize);
        expect(result.batches).toBe(batches === 'all' ? all : batches);
        const expected = referenceLoss(weights, tokens, batchSize, 8, result.batches);
        expect(Math.abs(result.loss - expected)).toBeLessThan(1e-5 * expected);
      }
    } finally {
      tokens.close();
    }
  });

  it('the step-0 record is the untrained model: evaluateLoss of the seed-initialised parameters', async () => {
    const first = readMetrics(path.join(runDir, 'metrics.jsonl'))[0]!;
    expect(first).toEqual({ step: 0, tokensSeen: 0, valLoss: first.valLoss, wallTime: 0 });
    const init = new Map(Object.entries(initParameters(TINY_MODEL, { seed: 3 })).map(([n, v]) => [n, Float32Array.from(v)]));
    const result = await evaluateLoss(TINY_MODEL, init, validationData, { batchSize: B, batches: BATCHES, threads: 1 });
    expect(result.loss).toBe(first.valLoss);
    expect(first.valLoss!).toBeGreaterThan(Math.log(TINY_MODEL.vocabSize) - 0.5); // near ln V before training
  });

  it('refuses bad options and a token file from another tokenizer, naming the problem', async () => {
    await expect(evaluateCheckpoint(runDir, validationData, { batches: 0 })).rejects.toThrow(/batches must be a positive integer or 'all', got 0/);
    await expect(evaluateCheckpoint(runDir, validationData, { contextLength: 9 })).rejects.toThrow(/contextLength must be an integer in \[1, 8\]/);
    const other = writeTokenFile(path.join(dir, 'other.bin'), 500, 4);
    const sidecar = JSON.parse(fs.readFileSync(`${other}.json`, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(`${other}.json`, JSON.stringify({ ...sidecar, tokenizerHash: 'another-tokenizer' }));
    await expect(evaluateCheckpoint(runDir, other)).rejects.toThrow(/other\.bin was tokenized with another tokenizer/);
    await expect(evaluateCheckpoint(path.join(dir, 'missing'), validationData)).rejects.toThrow(/no checkpoint at/);
  });
});
