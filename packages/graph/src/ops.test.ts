import { GraphBuilder } from './graph-builder.js';
import * as op from './ops.js';
import { runGraph } from './session.js';
import { hostTensor, toNumbers, type DType, type HostTensor, type Value } from './value.js';
import { binaryRef, erfRef, expectClose, matMulRef, randomArray, size, unravel, strides } from '../test/reference.js';

function tensor(dtype: DType, dims: number[], data: number[]): HostTensor {
  return hostTensor(dtype, dims, data);
}

async function run1(build: (g: GraphBuilder) => Value, feeds: Record<string, HostTensor>, declare: (g: GraphBuilder) => void = () => {}): Promise<HostTensor> {
  const g = new GraphBuilder('test');
  declare(g);
  g.output(build(g), 'y');
  const out = await runGraph(g, feeds);
  return out.y as HostTensor;
}

describe('elementwise ops with broadcasting', () => {
  const aDims = [2, 1, 3];
  const bDims = [4, 1];
  const a = randomArray(size(aDims), 1, 0.5, 2);
  const b = randomArray(size(bDims), 2, 0.5, 2);
  const cases: Array<[string, (x: Value, y: Value) => Value, (x: number, y: number) => number]> = [
    ['add', op.add, (x, y) => x + y],
    ['sub', op.sub, (x, y) => x - y],
    ['mul', op.mul, (x, y) => x * y],
    ['div', op.div, (x, y) => x / y],
    ['pow', op.pow, (x, y) => x ** y],
    ['max', op.max, Math.max],
    ['min', op.min, Math.min],
  ];
  it.each(cases)('%s matches a plain broadcast loop', async (_name, f, ref) => {
    const g = new GraphBuilder('t');
    const x = g.input('a', 'float64', aDims);
    const y = g.input('b', 'float64', bDims);
    const z = f(x, y);
    expect(z.shape).toEqual([2, 4, 3]);
    g.output(z, 'z');
    const out = await runGraph(g, { a: tensor('float64', aDims, a), b: tensor('float64', bDims, b) });
    const expected = binaryRef(aDims, a, bDims, b, ref);
    expect(out.z?.dims).toEqual(expected.dims);
    expectClose(out.z?.data as Float64Array, expected.data, 1e-12);
  });

  it('comparisons give bool tensors', async () => {
    const g = new GraphBuilder('t');
    const x = g.input('a', 'float32', [4]);
    g.output(op.less(x, 0.5), 'lt');
    g.output(op.greater(x, 0.5), 'gt');
    g.output(op.equal(x, 0.5), 'eq');
    g.output(op.not(op.less(x, 0.5)), 'ge');
    const out = await runGraph(g, { a: tensor('float32', [4], [0, 0.5, 1, -2]) });
    expect(Array.from(out.lt?.data as Uint8Array)).toEqual([1, 0, 0, 1]);
    expect(Array.from(out.gt?.data as Uint8Array)).toEqual([0, 0, 1, 0]);
    expect(Array.from(out.eq?.data as Uint8Array)).toEqual([0, 1, 0, 0]);
    expect(Array.from(out.ge?.data as Uint8Array)).toEqual([0, 1, 1, 0]);
    expect(out.lt?.dtype).toBe('bool');
  });

  it('a number on either side becomes a constant of the other dtype', async () => {
    const y = await run1((g) => op.sub(1, op.mul(g.inputs[0] as Value, 3)), { x: tensor('float64', [3], [1, 2, 3]) }, (g) => g.input('x', 'float64', [3]));
    expectClose(y.data as Float64Array, [-2, -5, -8], 0);
  });
});

describe('unary functions', () => {
  const xs = randomArray(12, 3, 0.1, 2);
  const cases: Array<[string, (x: Value) => Value, (x: number) => number, DType]> = [
    ['neg', op.neg, (x) => -x, 'float64'],
    ['abs', op.abs, Math.abs, 'float64'],
    ['sqrt', op.sqrt, Math.sqrt, 'float64'],
    ['reciprocal', op.reciprocal, (x) => 1 / x, 'float64'],
    ['exp', op.exp, Math.exp, 'float64'],
    ['floor', (x) => op.floor(op.mul(x, 3)), (x) => Math.floor(3 * x), 'float64'],
    ['log', op.log, Math.log, 'float64'],
    ['tanh', op.tanh, Math.tanh, 'float64'],
    ['sigmoid', op.sigmoid, (x) => 1 / (1 + Math.exp(-x)), 'float64'],
    ['relu', (x) => op.relu(op.sub(x, 1)), (x) => Math.max(0, x - 1), 'float64'],
    ['erf', op.erf, erfRef, 'float32'],
  ];
  it.each(cases)('%s matches Math', async (_name, f, ref, dtype) => {
    const data = dtype === 'float64' ? new Float64Array(xs) : new Float32Array(xs);
    const y = await run1((g) => f(g.inputs[0] as Value), { x: hostTensor(dtype, [3, 4], data) }, (g) => g.input('x', dtype, [3, 4]));
    expectClose(y.data as Float64Array, Array.from(data, ref), dtype === 'float64' ? 1e-12 : 1e-6);
  });
});

describe('matMul', () => {
  it('broadcasts batch dims like numpy', async () => {
    const aDims = [2, 1, 3, 4];
    const bDims = [5, 4, 2];
    const a = randomArray(size(aDims), 4);
    const b = randomArray(size(bDims), 5);
    const g = new GraphBuilder('t');
    const z = op.matMul(g.input('a', 'float64', aDims), g.input('b', 'float64', bDims));
    expect(z.shape).toEqual([2, 5, 3, 2]);
    g.output(z, 'z');
    const out = await runGraph(g, { a: tensor('float64', aDims, a), b: tensor('float64', bDims, b) });
    expectClose(out.z?.data as Float64Array, matMulRef(aDims, a, bDims, b).data, 1e-12);
  });

  it('x Wᵀ with a symbolic batch', async () => {
    const x = randomArray(6, 6);
    const w = randomArray(12, 7);
    const g = new GraphBuilder('t');
    const z = op.matMul(g.input('x', 'float64', ['B', 3]), op.transpose(g.parameter('w', 'float64', [4, 3])));
    expect(z.shape).toEqual(['B', 4]);
    g.output(z, 'z');
    const out = await runGraph(g, { x: tensor('float64', [2, 3], x), w: tensor('float64', [4, 3], w) });
    const wt = Array.from({ length: 12 }, (_, i) => w[(i % 4) * 3 + Math.floor(i / 4)] as number);
    expectClose(out.z?.data as Float64Array, matMulRef([2, 3], x, [3, 4], wt).data, 1e-12);
  });

  it('names the node and both shapes when inner dims differ', () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', ['B', 'T', 512]);
    const w = g.input('w', 'float32', [256, 64]);
    expect(() => g.withScope('block', () => op.matMul(x, w))).toThrow('MatMul (node block/MatMul): [B,T,512] x [256,64] — inner dims differ (512 vs 256)');
  });

  it('rejects mixed dtypes with a fix', () => {
    const g = new GraphBuilder('t');
    expect(() => op.add(g.input('a', 'float32', [2]), g.input('b', 'float64', [2]))).toThrow(/Add \(node Add\): dtype mismatch float32 vs float64 — cast one side/);
  });

  it('rejects shapes that do not broadcast', () => {
    const g = new GraphBuilder('t');
    expect(() => op.mul(g.input('a', 'float32', [2, 3]), g.input('b', 'float32', [4]))).toThrow(/Mul \(node Mul\): shapes \[2,3\] and \[4\] do not broadcast/);
  });
});

describe('shape ops', () => {
  const dims = [2, 3, 4];
  const data = Array.from({ length: 24 }, (_, i) => i);
  const feed = { x: tensor('float64', dims, data) };
  const declare = (g: GraphBuilder) => g.input('x', 'float64', ['B', 3, 4]);
  const x = (g: GraphBuilder) => g.inputs[0] as Value;

  it('transpose permutes axes', async () => {
    const y = await run1((g) => op.transpose(x(g), [2, 0, 1]), feed, declare);
    expect(y.dims).toEqual([4, 2, 3]);
    const expected = Array.from({ length: 24 }, (_, i) => {
      const [k, b, r] = unravel(i, [4, 2, 3]) as [number, number, number];
      return data[b * 12 + r * 4 + k] as number;
    });
    expectClose(y.data as Float64Array, expected, 0);
  });

  it('reshape with a symbolic dim reads it at run time', async () => {
    const g = new GraphBuilder('t');
    const input = declare(g);
    const y = op.reshape(input, ['B', 12]);
    expect(y.shape).toEqual(['B', 12]);
    const z = op.reshape(input, [-1, 4]);
    g.output(y, 'y');
    g.output(z, 'z');
    const out = await runGraph(g, feed);
    expect(out.y?.dims).toEqual([2, 12]);
    expect(out.z?.dims).toEqual([6, 4]);
    expectClose(out.y?.data as Float64Array, data, 0);
  });

  it('reshape infers -1 statically and rejects a wrong element count', () => {
    const g = new GraphBuilder('t');
    const input = g.input('x', 'float32', [2, 3, 4]);
    expect(op.reshape(input, [-1, 4]).shape).toEqual([6, 4]);
    expect(() => op.reshape(input, [5, 5])).toThrow(/Reshape \(node Reshape_1\): cannot reshape \[2,3,4\] \(24 elements\) to \[5,5\]/);
  });

  it('unsqueeze, squeeze, concat, slice, expand', async () => {
    const g = new GraphBuilder('t');
    const input = declare(g);
    const u = op.unsqueeze(input, [0, -1]);
    expect(u.shape).toEqual([1, 'B', 3, 4, 1]);
    g.output(op.squeeze(u, [0, 4]), 'sq');
    const c = op.concat([input, input], 1);
    expect(c.shape).toEqual(['B', 6, 4]);
    g.output(c, 'cat');
    const s = op.slice(input, [1, 3], [3, 0], [1, 2], [1, -2]);
    expect(s.shape).toEqual(['B', 2, 2]);
    g.output(s, 'sl');
    const e = op.expand(op.slice(input, [0], [1], [2]), ['B', 3, 5]);
    expect(e.shape).toEqual(['B', 3, 5]);
    g.output(e, 'ex');
    const out = await runGraph(g, feed);
    expectClose(out.sq?.data as Float64Array, data, 0);
    const catExpected: number[] = [];
    for (let b = 0; b < 2; b++) for (let rep = 0; rep < 2; rep++) catExpected.push(...data.slice(b * 12, b * 12 + 12));
    expectClose(out.cat?.data as Float64Array, catExpected, 0);
    const slExpected: number[] = [];
    for (let b = 0; b < 2; b++) for (let r = 1; r < 3; r++) for (const k of [3, 1]) slExpected.push(data[b * 12 + r * 4 + k] as number);
    expectClose(out.sl?.data as Float64Array, slExpected, 0);
    const exExpected: number[] = [];
    for (let b = 0; b < 2; b++) for (let r = 0; r < 3; r++) for (let k = 0; k < 5; k++) exExpected.push(data[b * 12 + r * 4] as number);
    expectClose(out.ex?.data as Float64Array, exExpected, 0);
  });

  it('shape returns the run-time dims', async () => {
    const y = await run1((g) => op.shape(x(g)), feed, declare);
    expect(Array.from(y.data as BigInt64Array, Number)).toEqual(dims);
  });
});

describe('indexing', () => {
  it('gather takes rows (embedding lookup)', async () => {
    const table = randomArray(15, 8);
    const g = new GraphBuilder('t');
    const y = op.gather(g.parameter('w', 'float64', [5, 3]), g.input('ids', 'int64', ['B', 'T']));
    expect(y.shape).toEqual(['B', 'T', 3]);
    g.output(y, 'y');
    const ids = [4, 0, 2, 2];
    const out = await runGraph(g, { w: tensor('float64', [5, 3], table), ids: tensor('int64', [2, 2], ids) });
    expectClose(out.y?.data as Float64Array, ids.flatMap((i) => table.slice(i * 3, i * 3 + 3)), 0);
  });

  it('gatherElements picks per-row targets, scatterElements adds them back', async () => {
    const logits = randomArray(6, 9);
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float64', [2, 3]);
    const idx = g.input('i', 'int64', [2, 1]);
    g.output(op.gatherElements(x, idx, 1), 'picked');
    g.output(op.scatterElements(x, idx, op.constantOfShape(op.int64s(g, [2, 1]), 10, 'float64'), 1, 'add'), 'scattered');
    g.output(op.oneHot(op.squeeze(idx, [1]), 3, 'float32'), 'hot'); // ORT CPU OneHot has no float64 kernel
    const out = await runGraph(g, { x: tensor('float64', [2, 3], logits), i: tensor('int64', [2, 1], [2, 0]) });
    expectClose(out.picked?.data as Float64Array, [logits[2] as number, logits[3] as number], 0);
    const scattered = [...logits];
    scattered[2] = (scattered[2] as number) + 10;
    scattered[3] = (scattered[3] as number) + 10;
    expectClose(out.scattered?.data as Float64Array, scattered, 1e-15);
    expectClose(out.hot?.data as Float32Array, [0, 0, 1, 1, 0, 0], 0);
  });
});

describe('reductions and normalizers', () => {
  const dims = [2, 3, 4];
  const data = randomArray(24, 10);
  const st = strides(dims);
  const at = (i: number, j: number, k: number) => data[i * (st[0] as number) + j * (st[1] as number) + k] as number;

  it('reduceSum, reduceMean, reduceMax over axes, with and without keepdims', async () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float64', dims);
    const s = op.reduceSum(x, [0, 2]);
    expect(s.shape).toEqual([1, 3, 1]);
    g.output(s, 's');
    const m = op.reduceMean(x, [-1], false);
    expect(m.shape).toEqual([2, 3]);
    g.output(m, 'm');
    g.output(op.reduceMax(x, [1], false), 'mx');
    g.output(op.reduceSum(x), 'all');
    const out = await runGraph(g, { x: tensor('float64', dims, data) });
    const sum = [0, 1, 2].map((j) => [0, 1].reduce((acc, i) => acc + [0, 1, 2, 3].reduce((a2, k) => a2 + at(i, j, k), 0), 0));
    expectClose(out.s?.data as Float64Array, sum, 1e-12);
    const mean: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) mean.push([0, 1, 2, 3].reduce((a, k) => a + at(i, j, k), 0) / 4);
    expectClose(out.m?.data as Float64Array, mean, 1e-12);
    const mx: number[] = [];
    for (let i = 0; i < 2; i++) for (let k = 0; k < 4; k++) mx.push(Math.max(at(i, 0, k), at(i, 1, k), at(i, 2, k)));
    expectClose(out.mx?.data as Float64Array, mx, 0);
    expectClose(out.all?.data as Float64Array, [data.reduce((a, b) => a + b, 0)], 1e-12);
  });

  it('argMax, cumSum and topK: ties go to the lower index (the last one with selectLastIndex)', async () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float64', [2, 5]);
    g.output(op.argMax(x, -1, false), 'first');
    g.output(op.argMax(x, 1, true, true), 'last');
    g.output(op.cumSum(x, 1), 'running');
    const top = op.topK(x, 3);
    expect(top.values.shape).toEqual([2, 3]);
    g.output(top.values, 'values');
    g.output(top.indices, 'indices');
    const rows = [[1, 3, 0.5, 3, 2], [0.1, 0.2, 0.2, 0.2, 0.3]];
    const out = await runGraph(g, { x: tensor('float64', [2, 5], rows.flat()) });
    expect(Array.from(out.first!.data as BigInt64Array, Number)).toEqual([1, 4]);
    expect(Array.from(out.last!.data as BigInt64Array, Number)).toEqual([3, 4]);
    // Summed left to right in float64, as a plain loop does.
    expect(Array.from(out.running!.data as Float64Array)).toEqual(rows.flatMap((r) => r.map((_, i) => r.slice(0, i + 1).reduce((a, b) => a + b, 0))));
    expect(Array.from(out.values!.data as Float64Array)).toEqual([3, 3, 2, 0.3, 0.2, 0.2]);
    expect(Array.from(out.indices!.data as BigInt64Array, Number)).toEqual([1, 3, 4, 4, 1, 2]);
    expect(() => op.topK(x, 6)).toThrow(/k = 6 must be an integer in \[1, 5\]/);
    // k read at run time.
    const h = new GraphBuilder('t');
    const y = h.input('y', 'float64', [5]);
    const dynamic = op.topK(y, h.input('k', 'int64', [1]));
    expect(typeof dynamic.values.shape[0]).toBe('string');
    h.output(dynamic.indices, 'indices');
    const picked = await runGraph(h, { y: tensor('float64', [5], rows[0]!), k: tensor('int64', [1], [2]) });
    expect(Array.from(picked.indices!.data as BigInt64Array, Number)).toEqual([1, 3]);
  });

  it('softmax and logSoftmax along an axis', async () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float64', dims);
    g.output(op.softmax(x, 1), 'sm');
    g.output(op.logSoftmax(x), 'lsm');
    const out = await runGraph(g, { x: tensor('float64', dims, data) });
    const sm: number[] = [];
    const lsm: number[] = [];
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++)
        for (let k = 0; k < 4; k++) {
          sm.push(Math.exp(at(i, j, k)) / [0, 1, 2].reduce((a, jj) => a + Math.exp(at(i, jj, k)), 0));
          lsm.push(at(i, j, k) - Math.log([0, 1, 2, 3].reduce((a, kk) => a + Math.exp(at(i, j, kk)), 0)));
        }
    expectClose(out.sm?.data as Float64Array, sm, 1e-12);
    expectClose(out.lsm?.data as Float64Array, lsm, 1e-12);
  });
});

describe('float16', () => {
  it('constants made from numbers round like ORT\'s own float32 → float16 Cast', async () => {
    const values = [0, 1, -2.5, 65504, 1e-5, 3.14159, -0.1, 70000, 2 ** -24, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 6e-8];
    const ours = new GraphBuilder('ours');
    ours.output(op.cast(ours.constant(hostTensor('float16', [values.length], values)), 'float32'), 'y');
    const reference = new GraphBuilder('reference');
    reference.output(op.cast(op.cast(reference.input('x', 'float32', [values.length]), 'float16'), 'float32'), 'y');
    const a = await runGraph(ours, {});
    const b = await runGraph(reference, { x: hostTensor('float32', [values.length], new Float32Array(values)) });
    expect(Array.from(a.y!.data as Float32Array)).toEqual(Array.from(b.y!.data as Float32Array));
    expect(toNumbers(hostTensor('float16', [values.length], values))).toEqual(Array.from(b.y!.data as Float32Array));
  });
});

describe('masks, casts and dropout', () => {
  it('trilu keeps a triangle; where picks; cast converts', async () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float64', [3, 3]);
    g.output(op.trilu(x, false), 'lower');
    g.output(op.trilu(x, true, 1), 'upper1');
    g.output(op.where(op.greater(x, 4), x, -1), 'w');
    g.output(op.cast(x, 'int64'), 'i');
    const data = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    const out = await runGraph(g, { x: tensor('float64', [3, 3], data) });
    expectClose(out.lower?.data as Float64Array, data.map((v, i) => (i % 3 <= Math.floor(i / 3) ? v : 0)), 0);
    expectClose(out.upper1?.data as Float64Array, data.map((v, i) => (i % 3 >= Math.floor(i / 3) + 1 ? v : 0)), 0);
    expectClose(out.w?.data as Float64Array, data.map((v) => (v > 4 ? v : -1)), 0);
    expect(Array.from(out.i?.data as BigInt64Array, Number)).toEqual(data);
  });

  it('dropout in training zeroes about ratio of the elements and scales the rest', async () => {
    const n = 20000;
    const y = await run1((g) => op.dropout(g.inputs[0] as Value, 0.25, true, 7), { x: hostTensor('float32', [n], new Float32Array(n).fill(1)) }, (g) => g.input('x', 'float32', [n]));
    const values = Array.from(y.data as Float32Array);
    const zeros = values.filter((v) => v === 0).length;
    expect(Math.abs(zeros / n - 0.25)).toBeLessThan(0.02); // ~7 standard deviations at n = 20000
    for (const v of values) if (v !== 0) expect(v).toBeCloseTo(1 / 0.75, 6);
  });

  it('dropout outside training is the identity', async () => {
    const y = await run1((g) => op.dropout(g.inputs[0] as Value, 0.5, false), { x: tensor('float32', [4], [1, 2, 3, 4]) }, (g) => g.input('x', 'float32', [4]));
    expectClose(y.data as Float32Array, [1, 2, 3, 4], 0);
  });
});
