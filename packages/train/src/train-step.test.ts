/**
 * First-step correctness: one train_step run against a plain-TypeScript reference built from
 * independent pieces — nn's float64 reference forward, optim's cross-entropy, central finite-difference
 * gradients, optim's clipGradientNorm and adamwStep.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initParameters, referenceTransformerLm, resolveTransformerConfig, transformerParameters } from '@cs336/nn';
import { adamwStep, clipGradientNorm, createAdamWState, crossEntropy } from '@cs336/optim';
import { buildArtifacts } from './artifacts.js';
import { Random } from './random.js';
import { TrainingSession } from './training-session.js';
import type { OptimizerSettings } from './train-step.js';

const model = resolveTransformerConfig({ vocabSize: 11, contextLength: 4, dModel: 8, numLayers: 1, numHeads: 2, dFf: 16 });
const B = 2;
const T = 4;
const specs = transformerParameters(model);
const names = specs.map((s) => s.name);

function windows(seed: number): BigInt64Array {
  const random = Random.seeded(seed);
  return BigInt64Array.from({ length: B * (T + 1) }, () => BigInt(random.nextInt(model.vocabSize)));
}

function split(w: BigInt64Array): { ids: number[]; targets: number[] } {
  const ids: number[] = [];
  const targets: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      ids.push(Number(w[b * (T + 1) + t]));
      targets.push(Number(w[b * (T + 1) + t + 1]));
    }
  }
  return { ids, targets };
}

function referenceLoss(weights: Record<string, Float64Array>, w: BigInt64Array): number {
  const { ids, targets } = split(w);
  return crossEntropy(referenceTransformerLm(model, weights, ids, B, T), [B, T, model.vocabSize], targets);
}

/** Central differences in float64, h = 1e-5 (truncation ~h², rounding ~1e-16/h: both far below the tolerances). */
function finiteDifferenceGradients(weights: Record<string, Float64Array>, w: BigInt64Array): Record<string, Float64Array> {
  const h = 1e-5;
  const grads: Record<string, Float64Array> = {};
  for (const name of names) {
    const p = weights[name]!;
    const g = new Float64Array(p.length);
    for (let i = 0; i < p.length; i++) {
      const saved = p[i]!;
      p[i] = saved + h;
      const up = referenceLoss(weights, w);
      p[i] = saved - h;
      const down = referenceLoss(weights, w);
      p[i] = saved;
      g[i] = (up - down) / (2 * h);
    }
    grads[name] = g;
  }
  return grads;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('train_step (K fused AdamW steps in one ONNX Loop)', () => {
  let dir: string;
  beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'train-step-')); });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('one step with K=1 matches forward + finite-difference gradients + clip + optim AdamW within 1e-5', async () => {
    const initial = initParameters(model, { seed: 3 }) as Record<string, Float32Array>;
    const w = windows(1);
    const weights64 = Object.fromEntries(names.map((n) => [n, Float64Array.from(initial[n]!)]));
    const referenceGrads = finiteDifferenceGradients(weights64, w);
    const gradNorm = Math.sqrt(names.reduce((s, n) => s + referenceGrads[n]!.reduce((a, g) => a + g * g, 0), 0));
    // Clip at half the norm so the clipping path is exercised. lr 1e-2, eps 1e-6: AdamW's first step moves
    // weights by up to ~lr, and eps keeps the update's sensitivity to float32 gradient noise small.
    const settings: OptimizerSettings = { beta1: 0.9, beta2: 0.95, eps: 1e-6, weightDecay: 0.1, gradClip: gradNorm / 2 };
    const lr = 1e-2;
    const artifacts = buildArtifacts(path.join(dir, 'k1'), { model, batchSize: B, contextLength: T }, settings);
    const session = await TrainingSession.create(artifacts.dir, artifacts.manifest, TrainingSession.freshState(initial, artifacts.manifest), { threads: 1 });
    const result = await session.runSteps(w, new Float32Array([lr]));
    await session.release();

    expect(result.losses[0]).toBeCloseTo(referenceLoss(weights64, w), 5);
    expect(Math.abs(result.gradNorms[0]! - gradNorm) / gradNorm).toBeLessThan(1e-4);

    const params = names.map((n) => Float32Array.from(initial[n]!));
    const grads = names.map((n) => Float32Array.from(referenceGrads[n]!));
    const clippedNorm = clipGradientNorm(grads, settings.gradClip);
    expect(clippedNorm).toBeCloseTo(gradNorm, 6); // the float32 copy of the gradients rounds the norm slightly
    const adam = createAdamWState(params);
    adamwStep(params, grads, adam, { lr, beta1: settings.beta1, beta2: settings.beta2, eps: settings.eps, weightDecay: settings.weightDecay }, lr);

    let moved = 0;
    names.forEach((name, i) => {
      const ours = session.state.parameters.get(name)!;
      expect(maxAbsDiff(ours, params[i]!)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(session.state.m.get(name)!, adam.m[i]!)).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(session.state.v.get(name)!, adam.v[i]!)).toBeLessThanOrEqual(1e-8);
      moved = Math.max(moved, maxAbsDiff(ours, initial[name]!));
    });
    expect(moved).toBeGreaterThan(5e-3); // the step really moved the weights (≈ lr), so 1e-5 is a tight check
    expect(session.state.step).toBe(1);
  });

  it('K steps in one run give exactly the same state as K runs of one step (what exact resume relies on)', async () => {
    const settings: OptimizerSettings = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1 };
    const artifacts = buildArtifacts(path.join(dir, 'k3'), { model, batchSize: B, contextLength: T }, settings);
    const initial = initParameters(model, { seed: 5 }) as Record<string, Float32Array>;
    const batches = [windows(10), windows(11), windows(12)];
    const lrs = [1e-3, 2e-3, 3e-3];

    const fused = await TrainingSession.create(artifacts.dir, artifacts.manifest, TrainingSession.freshState(initial, artifacts.manifest), { threads: 1 });
    const all = new BigInt64Array(3 * B * (T + 1));
    batches.forEach((b, k) => all.set(b, k * B * (T + 1)));
    const fusedResult = await fused.runSteps(all, new Float32Array(lrs));

    const single = await TrainingSession.create(artifacts.dir, artifacts.manifest, TrainingSession.freshState(initial, artifacts.manifest), { threads: 1 });
    const losses: number[] = [];
    for (let k = 0; k < 3; k++) losses.push((await single.runSteps(batches[k]!, new Float32Array([lrs[k]!]))).losses[0]!);

    expect(Array.from(fusedResult.losses)).toEqual(losses);
    for (const name of names) expect(fused.state.parameters.get(name)).toEqual(single.state.parameters.get(name));
    expect(fused.state.step).toBe(3);
    await fused.release();
    await single.release();
  });

  it('is bit-reproducible at 2 threads: the same steps from the same state, run after run', async () => {
    // Few ids, many rows: the token-embedding gradient adds 2048 rows of 128 into 8, where a
    // thread-split scatter-add loses updates (ORT's ScatterND did, see @cs336/graph's Gather rule).
    const wide = resolveTransformerConfig({ vocabSize: 8, contextLength: 32, dModel: 128, numLayers: 1, numHeads: 2, dFf: 16 });
    const [batch, steps] = [64, 2];
    const settings: OptimizerSettings = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1 };
    const artifacts = buildArtifacts(path.join(dir, 'threads2'), { model: wide, batchSize: batch, contextLength: 32 }, settings);
    const initial = initParameters(wide, { seed: 3 }) as Record<string, Float32Array>;
    const random = Random.seeded(4);
    const tokens = BigInt64Array.from({ length: steps * batch * 33 }, () => BigInt(random.nextInt(wide.vocabSize)));
    const runs: Float32Array[][] = [];
    for (let run = 0; run < 3; run++) {
      const session = await TrainingSession.create(artifacts.dir, artifacts.manifest, TrainingSession.freshState(initial, artifacts.manifest), { threads: 2 });
      const { losses, gradNorms } = await session.runSteps(tokens, new Float32Array(steps).fill(1e-2));
      runs.push([losses, gradNorms, ...session.state.parameters.values()]);
      await session.release();
    }
    for (const run of runs.slice(1)) run.forEach((array, i) => expect(array).toEqual(runs[0]![i]));
  });

  it('eval matches the reference loss, and a second buildArtifacts call reuses the folder', async () => {
    const settings: OptimizerSettings = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1 };
    const shape = { model, batchSize: B, contextLength: T };
    const artifacts = buildArtifacts(path.join(dir, 'k3'), shape, settings);
    expect(artifacts.built).toBe(false);
    // The manifest records what built the graphs, so an upgrade rebuilds old folders.
    for (const version of [artifacts.manifest.onnxruntimeNode, ...Object.values(artifacts.manifest.builders)]) expect(version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Object.keys(artifacts.manifest.builders).sort()).toEqual(['@cs336/graph', '@cs336/nn', '@cs336/optim', '@cs336/train']);
    expect(buildArtifacts(path.join(dir, 'k3'), shape, { ...settings, gradClip: 2 }).built).toBe(true); // config changed → rebuilt
    const initial = initParameters(model, { seed: 8 }) as Record<string, Float32Array>;
    const session = await TrainingSession.create(artifacts.dir, artifacts.manifest, TrainingSession.freshState(initial, artifacts.manifest), { threads: 1 });
    const w = windows(4);
    const weights64 = Object.fromEntries(names.map((n) => [n, Float64Array.from(initial[n]!)]));
    expect(await session.evaluate(w)).toBeCloseTo(referenceLoss(weights64, w), 5);
    await session.release();
  });

  it('refuses a context longer than the model', () => {
    expect(() => buildArtifacts(path.join(dir, 'bad'), { model, batchSize: B, contextLength: 5 }, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, gradClip: 0 }))
      .toThrow(/context length 5 is longer than the model's 4/);
  });
});
