/** ORT's fp32 MatMul rate on this machine: best of five n × n products, in FLOP/s (shared by the benches). */
import { measureMatMulFlops } from '@cs336/graph';

export async function matMulPeak(n: number, options: { threads: number; device?: 'cpu' | 'cuda' }): Promise<number> {
  // A budget of ~0 seconds: exactly the five timed runs, after the probe's warm-up run.
  const probe = await measureMatMulFlops({ size: n, threads: options.threads, device: options.device ?? 'cpu', minRuns: 5, seconds: 1e-9 });
  return probe.flopsPerSecond;
}
