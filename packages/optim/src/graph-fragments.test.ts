/** The optimizer graph fragments, run through ORT CPU, against the host implementations and the course fixture. */
import fs from 'node:fs';
import { GraphBuilder, Session, gradients, hostTensor, runGraph, type Value } from '@cs336/graph';
import { adamwGraph } from './adamw-graph.js';
import { resolveAdamWConfig } from './adamw.js';
import { runCrossEntropy } from './adapters.js';
import { clipGradientsGraph } from './clip-gradients-graph.js';
import { crossEntropy } from './cross-entropy.js';
import { crossEntropyGraph } from './cross-entropy-graph.js';
import { sgdGraph } from './sgd-graph.js';
import { randomFloat64, seededUniform } from '../test/random.js';
import { describeWithFixtures, fixturePath, projectFixturePath, readNpy } from '../../../test-support/fixtures.js';

describe('crossEntropyGraph through ORT', () => {
  const logits = randomFloat64(8 * 5, 21);
  const uniform = seededUniform(4);
  const targets = Array.from({ length: 8 }, () => Math.floor(uniform() * 5));

  it('matches the host cross-entropy, float32 and float64, and for logits ×1000', async () => {
    const expected = crossEntropy(logits, [8, 5], targets);
    expect(await runCrossEntropy({ data: logits, dims: [8, 5] }, targets)).toBeCloseTo(expected, 12);
    expect(await runCrossEntropy({ data: Float32Array.from(logits), dims: [2, 4, 5] }, targets)).toBeCloseTo(expected, 5);
    const large = logits.map((x) => x * 1000);
    const loss = await runCrossEntropy({ data: Float32Array.from(large), dims: [8, 5] }, targets);
    expect(Number.isFinite(loss)).toBe(true);
    expect(loss / crossEntropy(large, [8, 5], targets)).toBeCloseTo(1, 5);
  });

  it('has gradient (softmax − one-hot)/N w.r.t. the logits under autodiff', async () => {
    const g = new GraphBuilder('ce_grad');
    const x = g.input('logits', 'float64', [8, 5]);
    const loss = crossEntropyGraph(x, g.input('targets', 'int64', [8]));
    g.output(gradients(loss, [x])[0]!, 'dlogits');
    const out = await runGraph(g, { logits: hostTensor('float64', [8, 5], logits), targets: hostTensor('int64', [8], targets) });
    const grad = out['dlogits']!.data as Float64Array;
    for (let r = 0; r < 8; r++) {
      const row = Array.from(logits.subarray(r * 5, r * 5 + 5));
      const denominator = row.reduce((s, v) => s + Math.exp(v), 0);
      row.forEach((v, j) => expect(grad[r * 5 + j]).toBeCloseTo((Math.exp(v) / denominator - (j === targets[r] ? 1 : 0)) / 8, 14));
    }
  });

  it('names out-of-range targets', async () => {
    await expect(runCrossEntropy({ data: logits, dims: [8, 5] }, targets.map(() => 5))).rejects.toThrow(/target 5 at position 0/);
  });
});

describe('clipGradientsGraph through ORT', () => {
  it('clips to the reference computation and skips missing gradients', async () => {
    const host = [randomFloat64(12, 1, 2), randomFloat64(5, 2, 2)];
    const g = new GraphBuilder('clip');
    const inputs = host.map((h, i) => g.input(`g${i}`, 'float64', [h.length]));
    const clipped = clipGradientsGraph([inputs[0]!, null, inputs[1]!], 0.5);
    expect(clipped.gradients[1]).toBeNull();
    g.output(clipped.gradients[0]!, 'c0');
    g.output(clipped.gradients[2]!, 'c1');
    g.output(clipped.norm, 'norm');
    const out = await runGraph(g, { g0: hostTensor('float64', [12], host[0]), g1: hostTensor('float64', [5], host[1]) });
    // Reference: norm = sqrt(Σ over tensors of Σ g²); factor = max/(norm + 1e-6) when norm > max.
    const norm = Math.sqrt(host.flatMap((h) => Array.from(h)).reduce((s, x) => s + x * x, 0));
    expect(norm).toBeGreaterThan(0.5);
    expect(Number(out['norm']!.data[0])).toBeCloseTo(norm, 12);
    const factor = 0.5 / (norm + 1e-6);
    host.forEach((h, i) => h.forEach((x, j) => expect(Number(out[`c${i}`]!.data[j])).toBeCloseTo(x * factor, 14)));
  });

  it('measures the norm of a large float32 gradient to float64 accuracy (1e-6); one float32 pass was 4e-5 off', async () => {
    const [rows, cols] = [10_000, 128];
    const uniform = seededUniform(11);
    // Mostly small entries with a few large ones, like an LM head's gradient.
    const data = Float32Array.from({ length: rows * cols }, (_, i) => (uniform() - 0.5) * (i % 997 === 0 ? 1e-1 : 1e-3));
    const g = new GraphBuilder('clip');
    const x = g.input('g', 'float32', [rows, cols]);
    g.output(clipGradientsGraph([x], 1).norm, 'norm');
    const out = await runGraph(g, { g: hostTensor('float32', [rows, cols], data) });
    let sumOfSquares = 0;
    for (const v of data) sumOfSquares += v * v;
    expect(Math.abs(Number(out['norm']!.data[0]) / Math.sqrt(sumOfSquares) - 1)).toBeLessThan(1e-6);
  });

  it('leaves small gradients alone', async () => {
    const g = new GraphBuilder('clip');
    const x = g.input('g', 'float32', [2]);
    g.output(clipGradientsGraph([x], 10).gradients[0]!, 'c');
    const out = await runGraph(g, { g: hostTensor('float32', [2], [3, 4]) });
    expect(Array.from(out['c']!.data as Float32Array)).toEqual([3, 4]);
  });
});

describe('sgdGraph through ORT', () => {
  it('takes θ − lr·g and passes through parameters without gradients', async () => {
    const g = new GraphBuilder('sgd');
    const [p0, p1, g0, lr] = [g.input('p0', 'float64', [3]), g.input('p1', 'float64', [1]), g.input('g0', 'float64', [3]), g.input('lr', 'float64', [])];
    const [n0, n1] = sgdGraph([p0, p1], [g0, null], lr);
    expect(n1).toBe(p1);
    g.output(n0!, 'n0');
    const out = await runGraph(g, {
      p0: hostTensor('float64', [3], [1, 2, 3]), p1: hostTensor('float64', [1], [7]),
      g0: hostTensor('float64', [3], [0.5, -1, 2]), lr: hostTensor('float64', [], [0.1]),
    });
    expect(Array.from(out['n0']!.data as Float64Array)).toEqual([1 - 0.1 * 0.5, 2 + 0.1 * 1, 3 - 0.1 * 2]);
  });
});

interface AdamWInputs {
  hyperparameters: { lr: number; weight_decay: number; betas: [number, number]; eps: number };
  initial_weight: number[][];
  x_per_step: number[][];
}

describeWithFixtures('adamwGraph through ORT vs adamw_expected_params', () => {
  it('reproduces the course fixture to 1e-6 with step and lr fed as inputs', async () => {
    const inputs = JSON.parse(fs.readFileSync(projectFixturePath('adamw-test-inputs.json'), 'utf8')) as AdamWInputs;
    const hp = inputs.hyperparameters;
    const config = resolveAdamWConfig({ lr: hp.lr, weightDecay: hp.weight_decay, beta1: hp.betas[0], beta2: hp.betas[1], eps: hp.eps });
    // One graph per step: loss = Σ (y − W x)², its gradient −2 (y − W x) xᵀ written out, then the AdamW fragment.
    const g = new GraphBuilder('adamw_step');
    const [w, m, v] = ['w', 'm', 'v'].map((n) => g.input(n, 'float32', [2, 3])) as [Value, Value, Value];
    const grad = g.input('grad', 'float32', [2, 3]);
    const next = adamwGraph({ params: [w], m: [m], v: [v] }, [grad], g.input('step', 'int64', []), g.input('lr', 'float32', []), config);
    g.output(next.params[0]!, 'w_next');
    g.output(next.m[0]!, 'm_next');
    g.output(next.v[0]!, 'v_next');
    const session = await Session.create(g);
    let weight: Float32Array = Float32Array.from(inputs.initial_weight.flat());
    let mData: Float32Array = new Float32Array(6);
    let vData: Float32Array = new Float32Array(6);
    const f32 = Math.fround;
    for (const [i, x] of inputs.x_per_step.entries()) {
      const target = [f32(x[0]! + x[1]!), f32(-x[2]!)];
      const gradData = new Float32Array(6);
      for (let r = 0; r < 2; r++) {
        let prediction = 0;
        for (let c = 0; c < 3; c++) prediction = f32(prediction + f32(weight[r * 3 + c]! * x[c]!));
        for (let c = 0; c < 3; c++) gradData[r * 3 + c] = f32(f32(-2 * f32(target[r]! - prediction)) * x[c]!);
      }
      const out = await session.run({
        w: hostTensor('float32', [2, 3], weight), m: hostTensor('float32', [2, 3], mData), v: hostTensor('float32', [2, 3], vData),
        grad: hostTensor('float32', [2, 3], gradData), step: hostTensor('int64', [], [i + 1]), lr: hostTensor('float32', [], [hp.lr]),
      });
      weight = out['w_next']!.data as Float32Array;
      mData = out['m_next']!.data as Float32Array;
      vData = out['v_next']!.data as Float32Array;
    }
    await session.release();
    const expected = readNpy(fixturePath('derived', 'npy', 'adamw_expected_params.npy')).data as Float32Array;
    weight.forEach((value, i) => expect(Math.abs(value - expected[i]!)).toBeLessThan(1e-6));
  });
});
