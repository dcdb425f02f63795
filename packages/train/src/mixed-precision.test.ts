/**
 * Mixed precision (fp16 train_step with dynamic loss scaling) against independent references: the
 * fp32 train_step from the same weights on the same batches, float64 gradients of the same model,
 * the GradScaler rule worked out on the host, and an uninterrupted fp16 run for resume.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GraphBuilder, Session, hostTensor, type GraphNode, type HostTensor } from '@cs336/graph';
import { initParameters, resolveTransformerConfig, transformerParameters } from '@cs336/nn';
import { buildArtifacts } from './artifacts.js';
import { loadCheckpoint } from './checkpoint.js';
import { readMetrics } from './metrics.js';
import { Random } from './random.js';
import { TrainingSession, type TrainingState } from './training-session.js';
import { train, type TrainRunConfig } from './train.js';
import { resolveTrainConfig } from './train-config.js';
import { buildTrainStepGraph, lossAndGradients, type OptimizerSettings, type Precision, type TrainStepShape } from './train-step.js';
import { writeTokenFile } from '../test/tiny-run.js';

const model = resolveTransformerConfig({ vocabSize: 64, contextLength: 16, dModel: 32, numLayers: 2, numHeads: 4, dFf: 64 });
const B = 4;
const T = 16;
const specs = transformerParameters(model);
const settings: OptimizerSettings = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1, lossScaleWindow: 2000 };

/** Windows with a learnable pattern (mostly id + 1), so the loss has somewhere to go. */
function windows(seed: number, count = 1): BigInt64Array {
  const random = Random.seeded(seed);
  const out = new BigInt64Array(count * B * (T + 1));
  for (let i = 0; i < out.length; i++) out[i] = BigInt(random.nextInt(4) === 0 || i % (T + 1) === 0 ? random.nextInt(model.vocabSize) : (Number(out[i - 1]) + 1) % model.vocabSize);
  return out;
}

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mixed-precision-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function session(precision: Precision, optimizer: OptimizerSettings = settings, lossScale?: number): Promise<TrainingSession> {
  const artifacts = buildArtifacts(path.join(dir, `${precision}-${optimizer.lossScaleWindow}`), { model, batchSize: B, contextLength: T, precision }, optimizer);
  const state = TrainingSession.freshState(initParameters(model, { seed: 5 }), artifacts.manifest, lossScale);
  return TrainingSession.create(artifacts.dir, artifacts.manifest, state, { threads: 1 });
}

function copyState(state: TrainingState): Map<string, Float32Array>[] {
  return [state.parameters, state.m, state.v].map((map) => new Map([...map].map(([name, data]) => [name, Float32Array.from(data)])));
}

/** Every node of a graph and of its subgraphs (the Loop body). */
function allNodes(g: GraphBuilder): GraphNode[] {
  return g.nodes.flatMap((node) => [node, ...Object.values(node.attributes).flatMap((a) => (a instanceof GraphBuilder ? allNodes(a) : []))]);
}

describe('fp16 train_step', () => {
  it('runs its matmuls in float16 and its softmaxes, RMSNorm statistics and AdamW in float32', () => {
    const nodes = allNodes(buildTrainStepGraph({ model, batchSize: B, contextLength: T, precision: 'fp16' }, settings));
    const inputTypes = (opType: string) => new Set(nodes.filter((n) => n.opType === opType).flatMap((n) => n.inputs.map((x) => x.dtype)));
    expect(inputTypes('MatMul')).toEqual(new Set(['float16'])); // forward and backward
    expect(inputTypes('Softmax')).toEqual(new Set(['float32'])); // attention
    expect(inputTypes('LogSoftmax')).toEqual(new Set(['float32'])); // the loss
    expect(inputTypes('Sqrt')).toEqual(new Set(['float32', 'float64'])); // RMSNorm's rms, the clip norm, AdamW's √v (float64: its bias correction)
    expect(inputTypes('ReduceMean')).toEqual(new Set(['float32', 'int64'])); // RMSNorm's mean of squares and the loss (int64: axes)
    const fp32 = allNodes(buildTrainStepGraph({ model, batchSize: B, contextLength: T }, settings));
    expect(fp32.some((n) => n.inputs.some((x) => x.dtype === 'float16'))).toBe(false);
  });

  it("the manifest lists exactly the fp16 graph's inputs and outputs, with their dtypes", () => {
    const shape: TrainStepShape = { model, batchSize: B, contextLength: T, precision: 'fp16' };
    const g = buildTrainStepGraph(shape, settings);
    const { manifest } = buildArtifacts(path.join(dir, 'manifest-check'), shape, settings);
    const described = (list: ReadonlyArray<{ name: string; dtype: string }>) => list.map((t) => `${t.name}: ${t.dtype}`).sort();
    expect(described(manifest.trainStep.inputs)).toEqual(described(g.inputs));
    expect(described(manifest.trainStep.outputs)).toEqual(described(g.outputs));
    expect(manifest.precision).toBe('fp16');
  });

  it('30 steps track fp32 from the same weights on the same batches: losses within 1% of each other', async () => {
    // fp16 keeps 11 significant bits (ε = 2^-10 ≈ 1e-3); each step's forward is a few dozen roundings of
    // that size partly averaging out, and updates computed from ~1e-3-relative gradients drift the
    // weights apart by a little each step. 1% relative loss after 30 steps is ten times the per-op ε and
    // far below the loss drop itself (measured at 1 thread: max gap 9e-5, while the loss falls 4.13 → 3.27).
    const steps = 30;
    const tokens = windows(11, steps);
    const lrs = Float32Array.from({ length: steps }, () => 3e-3);
    const results = [];
    for (const precision of ['fp32', 'fp16'] as const) {
      const s = await session(precision);
      const result = await s.runSteps(tokens, lrs);
      results.push({ ...result, state: s.state });
      await s.release();
    }
    const [full, half] = results as [typeof results[0], typeof results[0]];
    expect(half.skipped).toEqual(Array.from({ length: steps }, () => false)); // 2^16 does not overflow here
    expect(Array.from(half.lossScales!)).toEqual(Array.from({ length: steps }, () => 2 ** 16));
    expect(half.state.lossScale).toEqual({ scale: 2 ** 16, cleanSteps: steps, appliedSteps: steps });
    const gaps = Array.from(full.losses, (loss, k) => Math.abs(half.losses[k]! - loss) / loss);
    expect(Math.max(...gaps)).toBeLessThan(0.01);
    expect(Math.max(...gaps)).toBeGreaterThan(0); // the fp16 graph really computes something different
    expect(full.losses[steps - 1]!).toBeLessThan(0.85 * full.losses[0]!);
    expect(half.losses[steps - 1]!).toBeLessThan(0.85 * half.losses[0]!);
  }, 120_000);

  it("one step's fp16 gradients (loss scale 1024, unscaled) match float64 gradients to the order of fp16's ε", async () => {
    // The same lossAndGradients the Loop body runs. Float64 (precision fp32 on float64 weights) is the
    // reference; the fp32 graph's error is ~1e-7 (float32 ε), fp16's must be of the order of 2^-10 ≈ 1e-3:
    // below 1e-2 (it is right), above 1e-5 (it really ran in float16). Measured: fp32 1.7–3.6e-7 per
    // tensor, fp16 3.4e-4–9.7e-4.
    const initial = initParameters(model, { seed: 5 }) as Record<string, Float32Array>;
    const window = windows(3);
    const scale = 1024;
    const run = async (precision: Precision, dtype: 'float32' | 'float64') => {
      const g = new GraphBuilder('grads');
      const parameters = specs.map((spec) => g.parameter(spec.name, dtype, spec.shape));
      const tokens = g.input('tokens', 'int64', [B, T + 1]);
      const shape: TrainStepShape = { model, batchSize: B, contextLength: T, precision };
      const lossScale = precision === 'fp16' ? g.constant(hostTensor(dtype, [], [scale])) : undefined;
      const { grads } = lossAndGradients(shape, parameters, tokens, lossScale);
      grads.forEach((grad, i) => g.output(grad, `grad.${i}`));
      const s = await Session.create(g, { threads: 1 });
      const feeds: Record<string, HostTensor> = { tokens: hostTensor('int64', [B, T + 1], window) };
      for (const spec of specs) feeds[spec.name] = hostTensor(dtype, spec.shape, dtype === 'float32' ? initial[spec.name]! : Float64Array.from(initial[spec.name]!));
      const out = await s.run(feeds);
      await s.release();
      return specs.map((_, i) => Float64Array.from(out[`grad.${i}`]!.data as Float32Array, (x) => (precision === 'fp16' ? x / scale : x)));
    };
    const reference = await run('fp32', 'float64');
    const relativeErrors = async (precision: Precision) => {
      const grads = await run(precision, 'float32');
      return grads.map((grad, i) => {
        let difference = 0;
        let norm = 0;
        grad.forEach((x, j) => { difference += (x - reference[i]![j]!) ** 2; norm += reference[i]![j]! ** 2; });
        return Math.sqrt(difference / norm);
      });
    };
    const fp32 = await relativeErrors('fp32');
    const fp16 = await relativeErrors('fp16');
    expect(Math.max(...fp32)).toBeLessThan(1e-5);
    expect(Math.max(...fp16)).toBeLessThan(1e-2);
    expect(Math.min(...fp16)).toBeGreaterThan(1e-5);
  }, 60_000);

  it('a loss scale of 2^40 overflows: those steps are skipped (state bit-identical), S halves until steps succeed, then the loss falls', async () => {
    const s = await session('fp16', settings, 2 ** 40);
    const before = copyState(s.state);
    const first = await s.runSteps(windows(21, 4), Float32Array.from([3e-3, 3e-3, 3e-3, 3e-3]));
    // The scaled float16 gradients reach 65504 long before 2^40: all four steps overflow.
    expect(first.skipped).toEqual([true, true, true, true]);
    expect(Array.from(first.lossScales!)).toEqual([2 ** 40, 2 ** 39, 2 ** 38, 2 ** 37]);
    expect(first.gradNorms.every((norm) => !Number.isFinite(norm))).toBe(true);
    expect(copyState(s.state)).toEqual(before); // parameters and both moments untouched, bit for bit
    expect(s.state.lossScale).toEqual({ scale: 2 ** 36, cleanSteps: 0, appliedSteps: 0 });

    const steps = 40;
    const rest = await s.runSteps(windows(22, steps), Float32Array.from({ length: steps }, () => 3e-3));
    const skipped = rest.skipped!;
    const firstClean = skipped.indexOf(false);
    expect(firstClean).toBeGreaterThan(0);
    expect(skipped.slice(0, firstClean).every(Boolean)).toBe(true);
    // Each skip halved S: the first clean step runs at 2^(36 − firstClean), and S stays there (window 2000).
    expect(rest.lossScales![firstClean]).toBe(2 ** (36 - firstClean));
    expect(skipped.slice(firstClean).filter(Boolean).length).toBeLessThanOrEqual(2);
    expect(s.state.lossScale!.appliedSteps).toBe(skipped.filter((x) => !x).length);
    const clean = Array.from(rest.losses).filter((_, k) => !skipped[k]);
    expect(clean.at(-1)!).toBeLessThan(0.9 * clean[0]!);
    await s.release();
  }, 120_000);

  it('after lossScaleWindow clean steps in a row the scale doubles (window 3)', async () => {
    const s = await session('fp16', { ...settings, lossScaleWindow: 3 }, 2 ** 4);
    const result = await s.runSteps(windows(31, 7), Float32Array.from({ length: 7 }, () => 1e-3));
    expect(result.skipped).toEqual(Array.from({ length: 7 }, () => false));
    expect(Array.from(result.lossScales!)).toEqual([16, 16, 16, 32, 32, 32, 64]);
    expect(s.state.lossScale).toEqual({ scale: 64, cleanSteps: 1, appliedSteps: 7 });
    await s.release();
  }, 60_000);
});

describe('fp16 train()', () => {
  let trainData: string;
  let validationData: string;
  beforeAll(() => {
    trainData = writeTokenFile(path.join(dir, 'data/train.bin'), 5000, 1);
    validationData = writeTokenFile(path.join(dir, 'data/valid.bin'), 1000, 2);
  });
  const runConfig = (runDir: string): TrainRunConfig => ({
    model: { vocabSize: 16, contextLength: 8, dModel: 16, numLayers: 1, numHeads: 2, dFf: 32 },
    train: {
      runDir, trainData, validationData, steps: 16, stepsPerRun: 2, batchSize: 4, evalEvery: 4, evalBatches: 2, checkpointEvery: 4,
      warmupSteps: 2, maxLearningRate: 1e-2, minLearningRate: 1e-3, threads: 1, seed: 7,
      // 2^20 overflows a few times at the start; window 3 makes the scale grow again within the run.
      precision: 'fp16', lossScaleInit: 2 ** 20, lossScaleWindow: 3,
    },
  });

  it('records the loss scale and skipped steps per step, and a resume replays the uninterrupted run bit for bit', async () => {
    const whole = path.join(dir, 'whole');
    const progress: Array<{ step: number; lossScale?: number; skippedSteps?: number }> = [];
    await train(runConfig(whole), { onProgress: ({ step, lossScale, skippedSteps }) => progress.push({ step, lossScale, skippedSteps }) });
    const reference = readMetrics(path.join(whole, 'metrics.jsonl')).map(({ wallTime: _w, tokensPerSecond: _t, ...rest }) => rest);
    const records = reference.slice(1);
    expect(records.some((r) => r.skipped)).toBe(true);
    expect(records.some((r) => !r.skipped)).toBe(true);
    for (const [i, r] of records.entries()) {
      expect(r.gradNorm === undefined).toBe(r.skipped);
      const next = records[i + 1];
      if (next && r.skipped) expect(next.lossScale).toBe(r.lossScale! / 2);
    }
    expect(Math.max(...records.map((r) => r.lossScale!))).toBeGreaterThan(records.find((r) => !r.skipped)!.lossScale!); // it grew back
    // What the CLI's progress line shows: per chunk of 2 steps, the skips in it and the scale after it.
    for (const p of progress) {
      const chunk = records.filter((r) => r.step > p.step - 2 && r.step <= p.step);
      expect(p.skippedSteps).toBe(chunk.filter((r) => r.skipped).length);
      const last = chunk.at(-1)!;
      const next = records.find((r) => r.step === p.step + 1);
      if (next) expect(p.lossScale).toBe(next.lossScale);
      else expect(p.lossScale).toBe(loadCheckpoint(whole).metadata.lossScale!.scale);
      expect(last.step).toBe(p.step);
    }
    expect(progress[0]).toEqual({ step: 2, lossScale: 2 ** 18, skippedSteps: 2 });

    const interrupted = path.join(dir, 'interrupted');
    const controller = new AbortController();
    const first = await train(runConfig(interrupted), { signal: controller.signal, onStep: (r) => { if (r.step === 6) controller.abort(); } });
    expect(first.step).toBe(6);
    expect(loadCheckpoint(interrupted).metadata.lossScale).toBeDefined();
    await train({ ...runConfig(interrupted), resume: true });
    expect(readMetrics(path.join(interrupted, 'metrics.jsonl')).map(({ wallTime: _w, tokensPerSecond: _t, ...rest }) => rest)).toEqual(reference);
    expect(loadCheckpoint(interrupted).metadata.lossScale).toEqual(loadCheckpoint(whole).metadata.lossScale);
  }, 120_000);

  it('an fp32 checkpoint resumes in fp16 (S from lossScaleInit, every earlier update counted as applied) and back', async () => {
    const runDir = path.join(dir, 'switch');
    const base = runConfig(runDir);
    const fp32 = { ...base, train: { ...base.train, precision: 'fp32' as const, steps: 4 } };
    await train(fp32);
    expect(loadCheckpoint(runDir).metadata.lossScale).toBeUndefined();
    const lines: string[] = [];
    await train({ ...base, train: { ...base.train, steps: 8, lossScaleInit: 2 ** 10 }, resume: true }, { log: (line) => lines.push(line) });
    expect(lines.some((line) => /has no loss-scale state \(an fp32 run\); fp16 starts with loss scale 1024/.test(line))).toBe(true);
    const records = readMetrics(path.join(runDir, 'metrics.jsonl'));
    expect(records.filter((r) => r.step <= 4).every((r) => r.lossScale === undefined)).toBe(true);
    expect(records.find((r) => r.step === 5)!.lossScale).toBe(1024);
    const saved = loadCheckpoint(runDir).metadata.lossScale!;
    const skipped = records.filter((r) => r.skipped).length;
    expect(saved.appliedSteps).toBe(8 - skipped);
    lines.length = 0;
    await train({ ...fp32, train: { ...fp32.train, steps: 10 }, resume: true }, { log: (line) => lines.push(line) });
    expect(lines.some((line) => /was trained with fp16; continuing in fp32/.test(line))).toBe(true);
    expect(readMetrics(path.join(runDir, 'metrics.jsonl')).at(-1)!.step).toBe(10);
    expect(loadCheckpoint(runDir).metadata.lossScale).toBeUndefined();
  }, 120_000);
});

describe('precision config', () => {
  it('rejects an unknown precision, naming it, and a loss scale that is not a power of two', () => {
    expect(() => resolveTrainConfig({ trainData: 'x.bin', precision: 'bf16' as never })).toThrow(/precision.*"bf16"|"bf16".*precision/);
    expect(() => resolveTrainConfig({ trainData: 'x.bin', precision: 'fp16', lossScaleInit: 1000 })).toThrow(/lossScaleInit must be a power of two .* got 1000/);
    expect(() => resolveTrainConfig({ trainData: 'x.bin', lossScaleWindow: 0 })).toThrow(/lossScaleWindow/);
    expect(resolveTrainConfig({ trainData: 'x.bin' })).toMatchObject({ precision: 'fp32', lossScaleInit: 65536, lossScaleWindow: 2000 });
  });
});
