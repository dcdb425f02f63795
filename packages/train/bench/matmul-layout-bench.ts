/**
 * Which MatMul layouts MLAS runs fastest at the training step's largest shapes (the LM head of
 * course-256: 1024 rows, d 256, V 10k), alternated in rounds so machine load hits all alike. JSON out.
 *  forward  x·Wᵀ: Transpose folded into FusedMatMul (transB, what the step runs) | W stored (d, V), plain MatMul
 *  dW       dyᵀ·x: FusedMatMul transA on dy [N, V] (what the step runs) | (xᵀ·dy)ᵀ: transA on x, then a Transpose copy
 *           | dy transposed by a Transpose copy, then MatMul (fusion off)
 * Run: pnpm --filter @cs336/train exec tsx bench/matmul-layout-bench.ts. Env: BENCH_THREADS (2), BENCH_ROUNDS (5),
 * BENCH_SHAPE (N,d,V; default 1024,256,10000).
 */
import os from 'node:os';
import { GraphBuilder, Session, matMul, transpose, type HostTensor, type SessionOptions } from '@cs336/graph';
import { Random } from '@cs336/train';

const threads = Number(process.env.BENCH_THREADS ?? 2);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const [N, D, V] = (process.env.BENCH_SHAPE ?? '1024,256,10000').split(',').map(Number) as [number, number, number];
const random = Random.seeded(1);
const tensor = (dims: number[]): HostTensor => ({ dtype: 'float32', dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => random.nextFloat() - 0.5) });

type Build = (g: GraphBuilder) => void;
const variants: Record<string, { build: Build; feeds: Record<string, HostTensor>; options?: SessionOptions }> = {
  'forward transB (now)': { build: (g) => g.output(matMul(g.input('x', 'float32', [N, D]), transpose(g.input('w', 'float32', [V, D]), [1, 0])), 'y'), feeds: { x: tensor([N, D]), w: tensor([V, D]) } },
  'forward W as (d, V)': { build: (g) => g.output(matMul(g.input('x', 'float32', [N, D]), g.input('w', 'float32', [D, V])), 'y'), feeds: { x: tensor([N, D]), w: tensor([D, V]) } },
  'dW transA on dy (now)': { build: (g) => g.output(matMul(transpose(g.input('dy', 'float32', [N, V]), [1, 0]), g.input('x', 'float32', [N, D])), 'dw'), feeds: { dy: tensor([N, V]), x: tensor([N, D]) } },
  'dW (x^T dy)^T': { build: (g) => g.output(transpose(matMul(transpose(g.input('x', 'float32', [N, D]), [1, 0]), g.input('dy', 'float32', [N, V])), [1, 0]), 'dw'), feeds: { dy: tensor([N, V]), x: tensor([N, D]) } },
  'dW x^T dy, no transpose back': { build: (g) => g.output(matMul(transpose(g.input('x', 'float32', [N, D]), [1, 0]), g.input('dy', 'float32', [N, V])), 'dw'), feeds: { dy: tensor([N, V]), x: tensor([N, D]) } },
  'dW Transpose copy + MatMul': { build: (g) => g.output(matMul(transpose(g.input('dy', 'float32', [N, V]), [1, 0]), g.input('x', 'float32', [N, D])), 'dw'), feeds: { dy: tensor([N, V]), x: tensor([N, D]) }, options: { disabledOptimizers: ['MatmulTransposeFusion'] } },
  'dx dy W (now)': { build: (g) => g.output(matMul(g.input('dy', 'float32', [N, V]), g.input('w', 'float32', [V, D])), 'dx'), feeds: { dy: tensor([N, V]), w: tensor([V, D]) } },
};

const sessions = new Map<string, Session>();
for (const [name, v] of Object.entries(variants)) {
  const g = new GraphBuilder('layout');
  v.build(g);
  const session = await Session.create(g, { threads, ...v.options });
  await session.run(v.feeds);
  sessions.set(name, session);
}
const times = new Map<string, number[]>([...sessions.keys()].map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  for (const [name, session] of sessions) {
    const start = performance.now();
    for (let i = 0; i < 3; i++) await session.run(variants[name]!.feeds);
    times.get(name)!.push((performance.now() - start) / 3);
  }
}
for (const s of sessions.values()) await s.release();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const flops = 2 * N * D * V;
console.log(JSON.stringify({
  threads, rounds, shape: { N, D, V }, loadAverage: os.loadavg().map((x) => Number(x.toFixed(1))),
  medianMs: Object.fromEntries([...times].map(([k, v]) => [k, Number(median(v).toFixed(2))])),
  gflops: Object.fromEntries([...times].map(([k, v]) => [k, Number((flops / median(v) / 1e6).toFixed(1))])),
}, null, 2));
