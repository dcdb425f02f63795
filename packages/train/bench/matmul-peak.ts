/** ORT's fp32 MatMul rate on this machine: best of five n × n products, in FLOP/s (shared by the benches). */
import { GraphBuilder, Session, matMul, type HostTensor } from '@cs336/graph';
import { Random } from '@cs336/train';

export async function matMulPeak(n: number, options: { threads: number; device?: 'cpu' | 'cuda' }): Promise<number> {
  const g = new GraphBuilder('peak');
  const a = g.input('a', 'float32', [n, n]);
  const b = g.input('b', 'float32', [n, n]);
  g.output(matMul(a, b), 'c');
  const session = await Session.create(g, { threads: options.threads, device: options.device ?? 'cpu' });
  const random = Random.seeded(1);
  const fill = (): HostTensor => ({ dtype: 'float32', dims: [n, n], data: Float32Array.from({ length: n * n }, () => random.nextFloat() - 0.5) });
  const feeds = { a: fill(), b: fill() };
  await session.run(feeds); // warm-up
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    await session.run(feeds);
    best = Math.min(best, (performance.now() - start) / 1000);
  }
  await session.release();
  return (2 * n ** 3) / best;
}
