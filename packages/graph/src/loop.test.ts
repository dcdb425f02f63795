import { gradients } from './autodiff.js';
import { GraphBuilder } from './graph-builder.js';
import { loop } from './loop.js';
import * as op from './ops.js';
import { Session, runGraph } from './session.js';
import { hostTensor, type HostTensor, type Value } from './value.js';
import { expectClose, randomArray } from '../test/reference.js';

describe('loop', () => {
  it('carries state, stacks scan outputs, reads the iteration number and captures outer values', async () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float64', [3]);
    const start = g.input('start', 'float64', [3]);
    const { carried, scanOutputs } = loop(g, {
      tripCount: 4,
      carried: [start],
      body: (_b, iteration, [s]) => {
        // s ← 2s + i·x, with x captured from the outer graph
        const next = op.add(op.mul(s!, 2), op.mul(x, op.cast(iteration, 'float64')));
        return { carried: [next], scanOutputs: [op.reduceSum(next, [0], false)] };
      },
    });
    expect(scanOutputs[0]!.shape).toEqual([4]);
    g.output(carried[0]!, 'final');
    g.output(scanOutputs[0]!, 'sums');
    const out = await runGraph(g, { x: hostTensor('float64', [3], [1, 2, 3]), start: hostTensor('float64', [3], [0.5, 0, -1]) });
    let s = [0.5, 0, -1];
    const sums: number[] = [];
    for (let i = 0; i < 4; i++) {
      s = s.map((v, j) => 2 * v + i * [1, 2, 3][j]!);
      sums.push(s.reduce((a, b) => a + b, 0));
    }
    expectClose(out.final?.data as Float64Array, s, 0);
    expectClose(out.sums?.data as Float64Array, sums, 0);
  });

  it('passes through carried values unchanged and takes a run-time trip count', async () => {
    const g = new GraphBuilder('t');
    const n = g.input('n', 'int64', []);
    const a = g.input('a', 'float32', [2]);
    const c = g.input('c', 'float32', [2]);
    const { carried } = loop(g, { tripCount: n, carried: [a, c], body: (_b, _i, [p, q]) => ({ carried: [p!, op.add(q!, p!)] }) });
    g.output(carried[0]!, 'a_out');
    g.output(carried[1]!, 'c_out');
    const out = await runGraph(g, { n: hostTensor('int64', [], [3]), a: hostTensor('float32', [2], [1, 2]), c: hostTensor('float32', [2], [0, 0]) });
    expectClose(out.a_out?.data as Float32Array, [1, 2], 0);
    expectClose(out.c_out?.data as Float32Array, [3, 6], 0);
  });

  it('differentiates inside the body with respect to a captured outer parameter', async () => {
    // Each iteration i scans out d/dw Σ (w·(x+i))² = 2 (x+i)² w, with w captured, not carried.
    const g = new GraphBuilder('t');
    const w = g.parameter('w', 'float64', [3]);
    const x = g.input('x', 'float64', [3]);
    const { scanOutputs } = loop(g, {
      tripCount: 3,
      carried: [x],
      body: (_b, iteration, [c]) => {
        const shifted = op.add(x, op.cast(iteration, 'float64'));
        const [dw] = gradients(op.reduceSum(op.mul(op.mul(w, shifted), op.mul(w, shifted))), [w]);
        return { carried: [c!], scanOutputs: [dw!] };
      },
    });
    expect(scanOutputs[0]!.shape).toEqual([3, 3]);
    g.output(scanOutputs[0]!, 'dw');
    const [wv, xv] = [[0.5, -1, 2], [1, 2, 3]];
    const out = await runGraph(g, { w: hostTensor('float64', [3], wv), x: hostTensor('float64', [3], xv) });
    const expected = [0, 1, 2].flatMap((i) => xv.map((xi, j) => 2 * (xi + i) ** 2 * wv[j]!));
    expectClose(out.dw?.data as Float64Array, expected, 1e-12);
  });

  it('stops after the first iteration whose condition is false, keeping its outputs', async () => {
    // Doubles s until it passes a limit fed at run time; the trip count caps the run.
    const g = new GraphBuilder('t');
    const limit = g.input('limit', 'float32', []);
    const { carried, scanOutputs } = loop(g, {
      tripCount: 10,
      carried: [g.constant(hostTensor('float32', [], [1]))],
      body: (_b, _i, [s]) => {
        const next = op.mul(s!, 2);
        return { carried: [next], scanOutputs: [next], condition: op.not(op.greater(next, limit)) };
      },
    });
    g.output(carried[0]!, 'last');
    g.output(scanOutputs[0]!, 'values');
    for (const [value, expected] of [[20, [2, 4, 8, 16, 32]], [1, [2]], [5000, [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]]] as const) {
      const out = await runGraph(g, { limit: hostTensor('float32', [], [value]) });
      expect(Array.from(out.values!.data as Float32Array)).toEqual(expected);
      expect((out.last!.data as Float32Array)[0]).toBe(expected.at(-1));
    }
  });

  it('lets a carried value grow along a symbolic axis', async () => {
    // Appends the iteration number to a vector each time: [a] → [a, 0, 1, 2].
    const g = new GraphBuilder('t');
    const start = g.input('start', 'int64', ['n']);
    const { carried } = loop(g, { tripCount: 3, carried: [start], body: (_b, i, [v]) => ({ carried: [op.concat([v!, op.unsqueeze(i, [0])], 0)] }) });
    expect(typeof carried[0]!.shape[0]).toBe('string');
    g.output(carried[0]!, 'grown');
    const out = await runGraph(g, { start: hostTensor('int64', [2], [7, 8]) });
    expect(Array.from(out.grown!.data as BigInt64Array, Number)).toEqual([7, 8, 0, 1, 2]);
  });

  it('rejects a body that changes a carried dtype or shape', () => {
    const g = new GraphBuilder('t');
    const a = g.input('a', 'float32', [2]);
    expect(() => loop(g, { tripCount: 2, carried: [a], body: (_b, _i, [p]) => ({ carried: [op.concat([p!, p!], 0)] }) })).toThrow(
      'Loop (node Loop): carried value 0 starts as float32[2] but the body returns float32[4]',
    );
  });

  it('refuses to differentiate through a Loop node, naming it', () => {
    const g = new GraphBuilder('t');
    const a = g.parameter('a', 'float32', [2]);
    const { carried } = loop(g, { tripCount: 2, carried: [a], body: (_b, _i, [p]) => ({ carried: [op.mul(p!, p!)] }) });
    expect(() => gradients(op.reduceSum(carried[0]!), [a])).toThrow(/no gradient rule for op Loop \(node Loop\)/);
  });
});

// ---- the README example: a 2-layer MLP trained K steps inside one Loop ----

interface Mlp {
  w1: number[]; // [H, D] (PyTorch Linear layout: out × in)
  b1: number[]; // [H]
  w2: number[]; // [1, H]
  b2: number[]; // [1]
}

/** Plain float64 TypeScript: K steps of SGD on mean((tanh(x W1ᵀ + b1) W2ᵀ + b2 − y)²). */
function trainReference(p: Mlp, x: number[], y: number[], n: number, d: number, h: number, steps: number, lr: number): { losses: number[]; params: Mlp } {
  const w1 = [...p.w1];
  const b1 = [...p.b1];
  const w2 = [...p.w2];
  const b2 = [...p.b2];
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const gw1 = new Array<number>(h * d).fill(0);
    const gb1 = new Array<number>(h).fill(0);
    const gw2 = new Array<number>(h).fill(0);
    let gb2 = 0;
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const hidden = new Array<number>(h);
      for (let j = 0; j < h; j++) {
        let z = b1[j]!;
        for (let k = 0; k < d; k++) z += x[i * d + k]! * w1[j * d + k]!;
        hidden[j] = Math.tanh(z);
      }
      let pred = b2[0]!;
      for (let j = 0; j < h; j++) pred += hidden[j]! * w2[j]!;
      const err = pred - y[i]!;
      loss += (err * err) / n;
      const dPred = (2 * err) / n;
      gb2 += dPred;
      for (let j = 0; j < h; j++) {
        gw2[j]! += dPred * hidden[j]!;
        const dz = dPred * w2[j]! * (1 - hidden[j]! * hidden[j]!);
        gb1[j]! += dz;
        for (let k = 0; k < d; k++) gw1[j * d + k]! += dz * x[i * d + k]!;
      }
    }
    losses.push(loss);
    w1.forEach((v, i) => (w1[i] = v - lr * gw1[i]!));
    b1.forEach((v, i) => (b1[i] = v - lr * gb1[i]!));
    w2.forEach((v, i) => (w2[i] = v - lr * gw2[i]!));
    b2[0] = b2[0]! - lr * gb2;
  }
  return { losses, params: { w1, b1, w2, b2 } };
}

/** The same K steps as one ONNX graph: parameters loop-carried, gradients and SGD in the body. */
function buildTrainingLoop(d: number, h: number, steps: number): GraphBuilder {
  const g = new GraphBuilder('mlp_training');
  const x = g.input('x', 'float64', ['N', d]);
  const y = g.input('y', 'float64', ['N', 1]);
  const lr = g.input('lr', 'float64', []);
  const params = [g.parameter('w1', 'float64', [h, d]), g.parameter('b1', 'float64', [h]), g.parameter('w2', 'float64', [1, h]), g.parameter('b2', 'float64', [1])];
  const { carried, scanOutputs } = loop(g, {
    tripCount: steps,
    carried: params,
    body: (_b, _step, current) => {
      const [w1, b1, w2, b2] = current as [Value, Value, Value, Value];
      const hidden = op.tanh(op.add(op.matMul(x, op.transpose(w1)), b1)); // (N, H)
      const pred = op.add(op.matMul(hidden, op.transpose(w2)), b2); // (N, 1)
      const err = op.sub(pred, y);
      const loss = op.reduceMean(op.mul(err, err), [0, 1], false);
      const grads = gradients(loss, current);
      const updated = current.map((p, i) => op.sub(p, op.mul(grads[i]!, lr)));
      return { carried: updated, scanOutputs: [loss] };
    },
  });
  ['w1', 'b1', 'w2', 'b2'].forEach((name, i) => g.output(carried[i]!, `${name}_final`));
  g.output(scanOutputs[0]!, 'losses');
  return g;
}

describe('README example: 2-layer MLP trained inside one Loop', () => {
  it('lowers the loss and matches a plain float64 TypeScript reference within 1e-5', async () => {
    const [n, d, h, steps, lr] = [16, 3, 8, 25, 0.1];
    const x = randomArray(n * d, 50);
    const y = Array.from({ length: n }, (_, i) => Math.sin(x[i * d]!) + 0.5 * x[i * d + 1]! * x[i * d + 2]!);
    const init: Mlp = { w1: randomArray(h * d, 51, -0.5, 0.5), b1: randomArray(h, 52, -0.1, 0.1), w2: randomArray(h, 53, -0.5, 0.5), b2: [0] };
    const session = await Session.create(buildTrainingLoop(d, h, steps));
    const out = await session.run({
      x: hostTensor('float64', [n, d], x),
      y: hostTensor('float64', [n, 1], y),
      lr: hostTensor('float64', [], [lr]),
      w1: hostTensor('float64', [h, d], init.w1),
      b1: hostTensor('float64', [h], init.b1),
      w2: hostTensor('float64', [1, h], init.w2),
      b2: hostTensor('float64', [1], init.b2),
    });
    await session.release();
    const reference = trainReference(init, x, y, n, d, h, steps, lr);
    const losses = Array.from(out.losses?.data as Float64Array);
    expect(losses).toHaveLength(steps);
    expect(losses[steps - 1]!).toBeLessThan(losses[0]! * 0.7);
    expectClose(losses, reference.losses, 1e-5);
    for (const name of ['w1', 'b1', 'w2', 'b2'] as const) {
      expectClose((out[`${name}_final`] as HostTensor).data as Float64Array, reference.params[name], 1e-5);
    }
  });
});
