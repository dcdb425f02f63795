/**
 * The loss-parity bench's inputs (bench/loss-parity-inputs.ts) and, where PyTorch is installed, its Python
 * side (bench/loss-parity.py) against our TrainingSession for three steps of a tiny model.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initParameters, resolveTransformerConfig, transformerParameters } from '@cs336/nn';
import { cosineLearningRate } from '@cs336/optim';
import { buildArtifacts } from '../src/artifacts.js';
import { writeSafetensors, type Tensor } from '../src/safetensors.js';
import { TokenFile } from '../src/token-file.js';
import { TrainingSession } from '../src/training-session.js';
import { evalSteps, makeParitySchedule, readParityInputs, writeParityInputs, type ParityModel, type ScheduleOptions } from '../bench/loss-parity-inputs.js';
import { TINY_MODEL, writeTokenFile } from './tiny-run.js';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '../bench/loss-parity.py');
const MODEL: ParityModel = { ...TINY_MODEL, rmsNormEps: 1e-5 };
const OPTIMIZER = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1 };
const LR = { maxLearningRate: 1e-2, minLearningRate: 1e-3, warmupIters: 1, cosineCycleIters: 3 };

let dir: string;
let options: ScheduleOptions;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-parity-test-'));
  const train = writeTokenFile(path.join(dir, 'train.bin'), 2000, 1);
  const valid = writeTokenFile(path.join(dir, 'valid.bin'), 200, 2);
  options = {
    model: MODEL, optimizer: OPTIMIZER, batchSize: 4, contextLength: 8, steps: 3, evalEvery: 2, evalBatches: 2, learningRate: LR,
    trainTokens: path.basename(train), validTokens: path.basename(valid), trainTokenCount: 2000, validTokenCount: 200, seed: 5,
  };
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('loss-parity inputs', () => {
  it('draws in-range window offsets, float32 cosine learning rates and our evaluate() validation windows', () => {
    const s = makeParitySchedule(options);
    expect(s.trainStarts).toHaveLength(3);
    for (const row of s.trainStarts) {
      expect(row).toHaveLength(4);
      for (const start of row) expect(Number.isInteger(start) && start >= 0 && start + 8 + 1 <= 2000).toBe(true);
    }
    expect(new Set(s.trainStarts.flat()).size).toBeGreaterThan(6); // drawn, not a constant
    expect(s.learningRates).toEqual([0, 1, 2].map((k) => Math.fround(cosineLearningRate(k, LR))));
    expect(s.learningRates[1]).toBeCloseTo(1e-2, 8); // end of warmup = the peak
    expect(s.validStarts).toEqual([[0, 8, 16, 24], [32, 40, 48, 56]]); // stride T from the start
    expect(makeParitySchedule(options)).toEqual(s); // same seed, same schedule
    expect(makeParitySchedule({ ...options, seed: 6 }).trainStarts).not.toEqual(s.trainStarts);
    expect(evalSteps(s)).toEqual([0, 2, 3]);
  });

  it('round-trips the weights and the schedule through weights.safetensors and schedule.json', () => {
    const s = makeParitySchedule(options);
    const weights = initParameters(MODEL, { seed: 3 }) as Record<string, Float32Array>;
    const out = path.join(dir, 'roundtrip');
    writeParityInputs(out, s, weights);
    const back = readParityInputs(out);
    expect(back.schedule).toEqual(s);
    expect(Object.keys(back.weights).sort()).toEqual(Object.keys(weights).sort());
    for (const [name, data] of Object.entries(weights)) expect(back.weights[name]).toEqual(data);
    expect(fs.readdirSync(out).sort()).toEqual(['schedule.json', 'weights.safetensors']); // no temp files left
  });

  it('refuses a missing or stray tensor and a schedule the data cannot fill', () => {
    const s = makeParitySchedule(options);
    const weights = initParameters(MODEL, { seed: 3 }) as Record<string, Float32Array>;
    const { ['ln_final.weight']: _dropped, ...missing } = weights;
    expect(() => writeParityInputs(path.join(dir, 'bad'), s, missing)).toThrow('missing parameter "ln_final.weight"');
    expect(() => writeParityInputs(path.join(dir, 'bad'), s, { ...weights, 'layers.0.attn.qkv.weight': new Float32Array(1) })).toThrow('layers.0.attn.qkv.weight');
    expect(() => makeParitySchedule({ ...options, evalBatches: 10 })).toThrow('fewer than evalBatches');
  });
});

const torch = spawnSync('python3', ['-c', 'import torch'], { encoding: 'utf8' });
const hasTorch = torch.status === 0;
// No PyTorch here (CI has none): say so in the test's name rather than pass silently.
const withTorch = hasTorch ? it : (name: string, fn: () => unknown) => it.skip(`${name} [skipped: python3 -c 'import torch' failed]`, fn as () => void);

function runPython(inputDir: string, out: string) {
  return spawnSync('python3', [script, inputDir, out, '--threads', '1'], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
}

describe('loss-parity.py', () => {
  withTorch('trains the tiny model like our TrainingSession: the same loss at every step (fp32, 3 steps)', async () => {
    const s = makeParitySchedule(options);
    const weights = initParameters(MODEL, { seed: 3 }) as Record<string, Float32Array>;
    const inputs = path.join(dir, 'run');
    writeParityInputs(inputs, s, weights);
    fs.copyFileSync(path.join(dir, 'train.bin'), path.join(inputs, 'train.bin'));
    fs.copyFileSync(path.join(dir, 'valid.bin'), path.join(inputs, 'valid.bin'));
    const run = runPython(inputs, path.join(inputs, 'torch.json'));
    if (run.status !== 0) throw new Error(`loss-parity.py failed: ${run.stderr}`);
    const theirs = JSON.parse(fs.readFileSync(path.join(inputs, 'torch.json'), 'utf8')) as { trainLoss: number[]; validLoss: Record<string, number>; tensorsLoaded: number };
    expect(theirs.tensorsLoaded).toBe(transformerParameters(resolveTransformerConfig(MODEL)).length);

    const model = resolveTransformerConfig(MODEL);
    const artifacts = path.join(inputs, 'artifacts');
    const { manifest } = buildArtifacts(artifacts, { model, batchSize: 4, contextLength: 8 }, OPTIMIZER);
    const session = await TrainingSession.create(artifacts, manifest, TrainingSession.freshState(weights, manifest), { threads: 1 });
    const train = TokenFile.open(path.join(inputs, 'train.bin'), { dtype: 'uint16' });
    const valid = TokenFile.open(path.join(inputs, 'valid.bin'), { dtype: 'uint16' });
    const windows = (tokens: TokenFile, rows: number[][]) => {
      const out = new BigInt64Array(rows.length * 4 * 9);
      rows.forEach((row, k) => row.forEach((start, b) => tokens.read(start, 9, out, (k * 4 + b) * 9)));
      return out;
    };
    const validation = async () => (await session.evaluate(windows(valid, [s.validStarts[0]!])) + await session.evaluate(windows(valid, [s.validStarts[1]!]))) / 2;
    const ours: Record<string, number> = { 0: await validation() };
    const first = await session.runSteps(windows(train, s.trainStarts.slice(0, 2)), Float32Array.from(s.learningRates.slice(0, 2)));
    ours[2] = await validation();
    const last = await session.runSteps(windows(train, s.trainStarts.slice(2)), Float32Array.from(s.learningRates.slice(2)));
    ours[3] = await validation();
    await session.release();
    train.close();
    valid.close();

    const trainLoss = [...first.losses, ...last.losses];
    trainLoss.forEach((loss, k) => expect(Math.abs(loss - theirs.trainLoss[k]!) / loss).toBeLessThan(1e-5));
    for (const k of ['0', '2', '3']) expect(Math.abs(ours[k]! - theirs.validLoss[k]!) / ours[k]!).toBeLessThan(1e-5);
    expect(ours[3]).toBeLessThan(ours[0]! - 0.05); // it learned something, so the comparison covers the updates
  });

  withTorch('refuses weights that miss a parameter or carry a stray one (e.g. a fused QKV), naming them', () => {
    const s = makeParitySchedule(options);
    const weights = initParameters(MODEL, { seed: 3 }) as Record<string, Float32Array>;
    const inputs = path.join(dir, 'mismatch');
    writeParityInputs(inputs, s, weights);
    const specs = transformerParameters(resolveTransformerConfig(MODEL));
    const tensors: Record<string, Tensor> = Object.fromEntries(specs.filter((spec) => spec.name !== 'layers.0.attn.k_proj.weight').map((spec) => [spec.name, { dtype: 'float32', dims: spec.shape, data: weights[spec.name]! }]));
    tensors['layers.0.attn.qkv.weight'] = { dtype: 'float32', dims: [48, 16], data: new Float32Array(48 * 16) };
    writeSafetensors(path.join(inputs, 'weights.safetensors'), tensors);
    const run = runPython(inputs, path.join(inputs, 'torch.json'));
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("missing ['layers.0.attn.k_proj.weight'], extra ['layers.0.attn.qkv.weight']");
    expect(fs.existsSync(path.join(inputs, 'torch.json'))).toBe(false);
  });
});
