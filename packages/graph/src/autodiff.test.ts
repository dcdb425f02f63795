import { gradients } from './autodiff.js';
import { GraphBuilder } from './graph-builder.js';
import * as op from './ops.js';
import { Session, runGraph } from './session.js';
import { hostTensor, type HostTensor, type Value } from './value.js';
import { mlp, randomFeeds, transformerLikeBlock } from '../test/models.js';
import { checkGradients, rand, type CheckInput } from '../test/gradient-check.js';

// float64: ε = 1e-6 gives truncation error ~ε² and rounding error ~1e-16/ε ≈ 1e-10, so 1e-6 relative is loose.
// float32 (ops ORT only has float kernels for): ε = 1e-2 gives truncation ~1e-5 and rounding
// ~6e-8/1e-2 ≈ 6e-6 relative to the loss, so a 2e-3 tolerance still catches any wrong rule.

type Case = [string, CheckInput[], (x: Value[]) => Value];
const a23 = rand('a', [2, 3], 1);
const b3 = rand('b', [3], 2);
const b21 = rand('b', [2, 1], 3);
const pos23 = rand('a', [2, 3], 4, 0.5, 2);
const posB3 = rand('b', [3], 5, 0.5, 2);

const elementwise: Case[] = [
  ['Add broadcast [2,3]+[3]', [a23, b3], ([a, b]) => op.add(a!, b!)],
  ['Sub broadcast [2,3]-[2,1]', [a23, b21], ([a, b]) => op.sub(a!, b!)],
  ['Mul broadcast [2,1]*[3]', [b21, { ...b3, name: 'c' }], ([a, b]) => op.mul(a!, b!)],
  ['Div broadcast', [a23, posB3], ([a, b]) => op.div(a!, b!)],
  ['Pow broadcast', [pos23, posB3], ([a, b]) => op.pow(a!, b!)],
  ['Pow by a constant', [pos23], ([a]) => op.pow(a!, 3)],
  ['Max', [a23, b3], ([a, b]) => op.max(a!, b!)],
  ['Min', [a23, b3], ([a, b]) => op.min(a!, b!)],
  ['Sum of three with broadcasting', [a23, b3, { ...b21, name: 'c' }], ([a, b, c]) => op.sum([a!, b!, c!])],
  ['Neg', [a23], ([a]) => op.neg(a!)],
  ['Sqrt', [pos23], ([a]) => op.sqrt(a!)],
  ['Reciprocal', [pos23], ([a]) => op.reciprocal(a!)],
  ['Exp', [a23], ([a]) => op.exp(a!)],
  ['Log', [pos23], ([a]) => op.log(a!)],
  ['Tanh', [a23], ([a]) => op.tanh(a!)],
  ['Sigmoid', [a23], ([a]) => op.sigmoid(a!)],
  ['Relu', [a23], ([a]) => op.relu(a!)],
  ['Abs', [a23], ([a]) => op.abs(a!)],
  ['Identity', [a23], ([a]) => op.identity(a!)],
  ['Where', [a23, b3], ([a, b]) => op.where(op.greater(a!, 0), op.mul(a!, a!), b!)],
  ['fan-out: x·x + exp(x)·x', [a23], ([a]) => op.add(op.mul(a!, a!), op.mul(op.exp(a!), a!))],
];

const linearAlgebra: Case[] = [
  ['MatMul [2,3,4]x[4,5] (shared weight)', [rand('a', [2, 3, 4], 6), rand('w', [4, 5], 7)], ([a, w]) => op.matMul(a!, w!)],
  ['MatMul [2,1,3,4]x[5,4,2] (batch broadcast)', [rand('a', [2, 1, 3, 4], 8), rand('b', [5, 4, 2], 9)], ([a, b]) => op.matMul(a!, b!)],
  ['MatMul [3,4]x[4,5]', [rand('a', [3, 4], 10), rand('b', [4, 5], 11)], ([a, b]) => op.matMul(a!, b!)],
  ['MatMul [4]x[2,4,5] (1-D left)', [rand('a', [4], 12), rand('b', [2, 4, 5], 13)], ([a, b]) => op.matMul(a!, b!)],
  ['MatMul [2,3,4]x[4] (1-D right)', [rand('a', [2, 3, 4], 14), rand('b', [4], 15)], ([a, b]) => op.matMul(a!, b!)],
  ['batched a bᵀ [2,3,4]x[2,5,4]ᵀ', [rand('a', [2, 3, 4], 49), rand('b', [2, 5, 4], 50)], ([a, b]) => op.matMul(a!, op.transpose(b!, [0, 2, 1]))],
  ['x Wᵀ with symbolic batch', [rand('x', [2, 3, 4], 16, -1, 1, ['B', 'T', 4]), rand('w', [5, 4], 17)], ([x, w]) => op.matMul(x!, op.transpose(w!))],
];

const shapes: Case[] = [
  ['Transpose', [rand('a', [2, 3, 4], 18)], ([a]) => op.transpose(a!, [1, 2, 0])],
  ['Reshape with symbolic dim', [rand('a', [2, 3, 4], 19, -1, 1, ['B', 3, 4])], ([a]) => op.reshape(a!, ['B', 12])],
  ['Unsqueeze + Squeeze', [a23], ([a]) => op.mul(op.squeeze(op.unsqueeze(a!, [0, 2]), [0]), op.unsqueeze(a!, [1]))],
  ['Expand [3] → [4,2,3]', [b3], ([b]) => op.expand(b!, [4, 2, 3])],
  ['Concat', [a23, rand('c', [2, 2], 20)], ([a, c]) => op.concat([a!, c!, a!], 1)],
  ['Concat with symbolic dims', [rand('a', [2, 3], 21, -1, 1, ['B', 'N']), rand('c', [2, 2], 22, -1, 1, ['B', 'M'])], ([a, c]) => op.concat([a!, c!], 1)],
  ['Split (one part unused)', [rand('s', [2, 5], 47)], ([s]) => { const [p, , r] = op.split(s!, [2, 1, 2], 1); return op.mul(p!, r!); }],
  ['Split then Concat', [rand('s', [4, 3], 48)], ([s]) => { const [p, q] = op.split(s!, [1, 3], 0); return op.concat([op.exp(q!), p!], 0); }],
  ['Slice with negative start and step', [rand('a', [3, 5], 23)], ([a]) => op.slice(a!, [1, -4], [3, 4], [0, 1])],
  ['Slice to the end of a symbolic axis', [rand('a', [3, 5], 24, -1, 1, ['N', 5])], ([a]) => op.slice(a!, [1], [op.SLICE_END], [0])],
  ['Pad', [a23], ([a]) => op.pad(a!, [1, 0, 0, 2])],
];

const indexing: Case[] = [
  ['Gather axis 0 with repeated indices (embedding)', [rand('w', [4, 3], 25), { name: 'i', dims: [2, 3], data: [1, 3, 1, 0, 1, 3], dtype: 'int64', constant: true }], ([w, i]) => op.gather(w!, i!, 0)],
  ['Gather axis 1', [rand('w', [2, 4, 3], 26), { name: 'i', dims: [2], data: [3, 3], dtype: 'int64', constant: true }], ([w, i]) => op.gather(w!, i!, 1)],
  ['GatherElements', [rand('x', [2, 4], 27), { name: 'i', dims: [2, 2], data: [3, 0, 1, 1], dtype: 'int64', constant: true }], ([x, i]) => op.gatherElements(x!, i!, 1)],
  ['ScatterElements', [rand('x', [2, 4], 28), { name: 'i', dims: [2, 1], data: [3, 0], dtype: 'int64', constant: true }, rand('u', [2, 1], 29)], ([x, i, u]) => op.scatterElements(x!, i!, u!, 1)],
];

const reductions: Case[] = [
  ['ReduceSum keepdims', [rand('a', [2, 3, 4], 30)], ([a]) => op.reduceSum(a!, [0, 2], true)],
  ['ReduceSum no keepdims', [rand('a', [2, 3, 4], 31)], ([a]) => op.reduceSum(a!, [1], false)],
  ['ReduceSum over everything', [a23], ([a]) => op.reduceSum(a!)],
  ['ReduceMean', [rand('a', [2, 3, 4], 32)], ([a]) => op.reduceMean(a!, [-1], false)],
  ['ReduceMean with symbolic dims', [rand('a', [2, 3, 4], 33, -1, 1, ['B', 'T', 4])], ([a]) => op.reduceMean(op.mul(a!, a!), [-1], true)],
  ['ReduceMax', [rand('a', [2, 3, 4], 34)], ([a]) => op.reduceMax(a!, [1], false)],
  ['a reduction’s broadcastable dy reaching LogSoftmax and Reshape', [rand('a', [2, 3, 4], 39)], ([a]) => op.reduceSum(op.logSoftmax(op.reshape(op.mul(a!, a!), [6, 4])), [-1], true)],
  ['a reduction’s dy through Transpose, Concat and Slice', [rand('a', [2, 3, 4], 46)], ([a]) => op.reduceMean(op.slice(op.concat([op.transpose(a!, [0, 2, 1]), op.exp(op.transpose(a!, [0, 2, 1]))], 2), [1], [5], [2]), [0, 2])],
  ['Softmax', [rand('a', [2, 3, 4], 35)], ([a]) => op.softmax(a!, 1)],
  ['LogSoftmax', [rand('a', [2, 3, 4], 36)], ([a]) => op.logSoftmax(a!)],
  ['Trilu (causal mask)', [rand('a', [2, 3, 3], 37)], ([a]) => op.trilu(a!, false)],
  ['Trilu upper k=1', [rand('a', [3, 3], 38)], ([a]) => op.trilu(a!, true, 1)],
];

describe('gradient rules match central finite differences (float64)', () => {
  it.each([...elementwise, ...linearAlgebra, ...shapes, ...indexing, ...reductions])('%s', async (_name, inputs, build) => {
    await checkGradients(inputs, build);
  });
});

describe('composite patterns with symbolic dims', () => {
  it('cross-entropy over [B,T,V] logits flattened with reshape(-1)', async () => {
    const targets = { name: 't', dims: [2, 3, 1], shape: ['B', 'T', 1], data: [4, 0, 2, 1, 1, 3], dtype: 'int64' as const, constant: true };
    await checkGradients([rand('logits', [2, 3, 5], 80, -2, 2, ['B', 'T', 5]), targets], ([logits, t]) => {
      const flat = op.reshape(logits!, [-1, 5]); // (B·T, V)
      const picked = op.gatherElements(op.logSoftmax(flat), op.reshape(t!, [-1, 1]), 1);
      return op.neg(op.reduceMean(picked));
    });
  });

  it('embedding lookup followed by a shared Linear layer', async () => {
    const ids = { name: 'ids', dims: [2, 3], shape: ['B', 'T'], data: [0, 3, 3, 1, 0, 2], dtype: 'int64' as const, constant: true };
    await checkGradients([rand('table', [4, 5], 81), ids, rand('w', [6, 5], 82)], ([table, i, w]) => op.tanh(op.matMul(op.gather(table!, i!), op.transpose(w!))));
  });
});

describe('embedding gradient at 2 threads', () => {
  // ORT 1.29's ScatterND(reduction add) splits updates over threads and loses some when two hit the
  // same row; the Gather rule uses ScatterElements instead. Counts of ones are exact in float32.
  it('uses no ScatterND and sums repeated rows exactly, run after run', async () => {
    const [V, D, N] = [16, 1024, 4096];
    const g = new GraphBuilder('embedding');
    const table = g.parameter('table', 'float32', [V, D]);
    const ids = g.input('ids', 'int64', [N]);
    const [dTable] = gradients(op.reduceSum(op.gather(table, ids, 0)), [table]);
    g.output(dTable!, 'dTable');
    expect(g.nodes.filter((n) => n.name.startsWith('grad/')).map((n) => n.opType)).not.toContain('ScatterND');
    const session = await Session.create(g, { threads: 2 });
    const feeds = { table: hostTensor('float32', [V, D]), ids: hostTensor('int64', [N], BigInt64Array.from({ length: N }, (_, i) => BigInt(i % V))) };
    for (let run = 0; run < 5; run++) {
      const out = (await session.run(feeds))['dTable']!.data as Float32Array;
      expect(out.every((count) => count === N / V)).toBe(true);
    }
    await session.release();
  });
});

describe('gradient rules for float-only kernels (float32)', () => {
  it('Erf', async () => {
    await checkGradients([rand('a', [2, 3], 40)], ([a]) => op.erf(a!), { dtype: 'float32' });
  });
  it('Cast float32 → float64 → float32', async () => {
    await checkGradients([rand('a', [2, 3], 41)], ([a]) => op.cast(op.exp(op.cast(a!, 'float64')), 'float32'), { dtype: 'float32' });
  });
});

describe('unbroadcast', () => {
  it('reduces a gain broadcast over [B,T,d] with one ReduceSum and no Expand', () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', ['B', 'T', 8]);
    const gain = g.parameter('gain', 'float32', [8]);
    const y = op.mul(x, gain);
    const [dGain] = gradients(y, [gain], g.input('seed', 'float32', ['B', 'T', 8]));
    const producer = g.producerOf(dGain!)!.node;
    expect(producer.opType).toBe('ReduceSum');
    expect(g.constantData(producer.inputs[1]!)?.data).toEqual(new BigInt64Array([0n, 1n]));
    expect(g.nodes.filter((n) => n.name.startsWith('grad/')).map((n) => n.opType)).not.toContain('Expand');
  });

  it('keeps a normalizer’s [B,T,1] gradient broadcastable instead of expanding it', () => {
    const g = new GraphBuilder('t');
    const x = g.parameter('x', 'float32', [2, 3, 8]);
    const rms = op.div(x, op.sqrt(op.add(op.reduceMean(op.mul(x, x), [-1]), 1e-5)));
    gradients(rms, [x], g.input('seed', 'float32', [2, 3, 8]));
    expect(g.nodes.filter((n) => n.name.startsWith('grad/')).map((n) => n.opType)).not.toContain('Expand');
  });

  it('computes the stretched axes at run time when they are not known statically', async () => {
    // 'M' may or may not be 1; here it is 1 at run time, so db sums over N.
    await checkGradients([rand('a', [4, 3], 42, -1, 1, ['N', 3]), rand('b', [1, 3], 43, -1, 1, ['M', 3])], ([a, b]) => op.mul(a!, b!));
    await checkGradients([rand('a', [4, 3], 44, -1, 1, ['N', 3]), rand('b', [4, 3], 45, -1, 1, ['M', 3])], ([a, b]) => op.mul(a!, b!));
  });
});

describe('gradients API', () => {
  it('gives zeros of the right shape for a value the loss does not use', async () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float64', [3]);
    const unused = g.parameter('unused', 'float64', [2, 2]);
    const [dx, dUnused] = gradients(op.reduceSum(op.mul(x, x)), [x, unused]);
    g.output(dx!, 'dx');
    g.output(dUnused!, 'du');
    const out = await runGraph(g, { x: hostTensor('float64', [3], [1, 2, 3]), unused: hostTensor('float64', [2, 2]) });
    expect(Array.from(out.dx?.data as Float64Array)).toEqual([2, 4, 6]);
    expect(out.du?.dims).toEqual([2, 2]);
    expect(Array.from(out.du?.data as Float64Array)).toEqual([0, 0, 0, 0]);
  });

  it('needs a seed for a loss with more than one element', () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float64', [3]);
    expect(() => gradients(op.exp(x), [x])).toThrow('gradients: loss "Exp" has shape [3]; pass a seed of that shape, or reduce it to one element');
  });

  it('names the op and node when a rule is missing', () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', [3]);
    const [y] = g.withScope('block', () => g.addNode('HardSwish', [x], [{ dtype: 'float32', shape: [3] }]));
    expect(() => gradients(op.reduceSum(y!), [x])).toThrow(/no gradient rule for op HardSwish \(node block\/HardSwish\), which lies between the loss "ReduceSum" and x; add a row to GRADIENT_RULES/);
  });

  it('stops at ops without gradients (comparisons) instead of failing', async () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float64', [3]);
    const mask = op.cast(op.greater(x, 0), 'float64');
    const [dx] = gradients(op.reduceSum(op.mul(mask, x)), [x]);
    g.output(dx!, 'dx');
    const out = await runGraph(g, { x: hostTensor('float64', [3], [-1, 2, 3]) });
    expect(Array.from(out.dx?.data as Float64Array)).toEqual([0, 1, 1]);
  });

  it('dropout: dx = dy where kept, scaled by 1/(1-ratio), matching the forward mask', async () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', [1000]);
    const y = op.dropout(x, 0.3, true, 11);
    const seed = g.input('seed', 'float32', [1000]);
    const [dx] = gradients(y, [x], seed);
    g.output(y, 'y');
    g.output(dx!, 'dx');
    const seedData = Float32Array.from({ length: 1000 }, (_, i) => 1 + (i % 7));
    const out = await runGraph(g, { x: hostTensor('float32', [1000], new Float32Array(1000).fill(1)), seed: hostTensor('float32', [1000], seedData) });
    const yData = out.y?.data as Float32Array;
    const dxData = out.dx?.data as Float32Array;
    for (let i = 0; i < 1000; i++) {
      const kept = yData[i] !== 0;
      expect(dxData[i]).toBeCloseTo(kept ? (seedData[i] as number) / 0.7 : 0, 4);
    }
  });
});

describe('whole-model gradients (float64) match finite differences', () => {
  it.each([
    ['MLP', () => mlp(3, 5, 2, 'float64').training, { N: 4 }],
    ['transformer-like block (RMSNorm, causal attention, ReLU MLP)', () => transformerLikeBlock(4, 'float64').training, { B: 2, T: 3 }],
  ] as const)('%s', async (_name, build, dims) => {
    const g = build();
    const feeds = randomFeeds(g, dims, 70);
    const session = await Session.create(g);
    try {
      const analytic = await session.run(feeds);
      const loss = async (f: Record<string, HostTensor>) => Number((await session.run(f, ['loss'])).loss!.data[0]);
      const epsilon = 1e-6;
      for (const p of g.parameters) {
        const base = feeds[p.name]!;
        const grad = analytic[`${p.name}_grad`]!.data as Float64Array;
        for (let i = 0; i < base.data.length; i++) {
          const plus = Float64Array.from(base.data as Float64Array);
          const minus = Float64Array.from(base.data as Float64Array);
          plus[i]! += epsilon;
          minus[i]! -= epsilon;
          const fd = ((await loss({ ...feeds, [p.name]: { ...base, data: plus } })) - (await loss({ ...feeds, [p.name]: { ...base, data: minus } }))) / (2 * epsilon);
          expect(Math.abs(grad[i]! - fd)).toBeLessThan(1e-7 + 1e-6 * Math.abs(fd));
        }
      }
    } finally {
      await session.release();
    }
  });
});
