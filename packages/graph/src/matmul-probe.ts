/**
 * A quick peak-rate probe: an n×n by n×n float32 MatMul (2·n³ FLOPs) run through ONNX Runtime until a
 * time budget is spent; the best run is the rate. This is the denominator that MFU is measured
 * against on machines without a published peak (a CPU, or a GPU you want to check).
 */
import { GraphBuilder } from './graph-builder.js';
import { matMul } from './ops.js';
import { Session, type Device } from './session.js';

export interface MatMulProbeOptions {
  /** n; default 1024 (CPU); use ~8192 on a GPU. */
  size?: number;
  device?: Device;
  /** Intra-op threads; default lets ORT choose. */
  threads?: number;
  /** Stop starting new runs after this many seconds of timed runs (at least `minRuns` happen). Default 1. */
  seconds?: number;
  /** Timed runs that happen whatever the budget. Default 3. */
  minRuns?: number;
}

export interface MatMulProbeResult {
  size: number;
  runs: number;
  /** Best single-run rate, FLOP/s. */
  flopsPerSecond: number;
  /** Seconds of the fastest run. */
  bestSeconds: number;
}

export async function measureMatMulFlops(options: MatMulProbeOptions = {}): Promise<MatMulProbeResult> {
  const n = options.size ?? 1024;
  const budget = options.seconds ?? 1;
  const minRuns = options.minRuns ?? 3;
  if (!Number.isInteger(n) || n < 1) throw new Error(`measureMatMulFlops: size must be a positive integer, got ${n}`);
  if (!Number.isInteger(minRuns) || minRuns < 1) throw new Error(`measureMatMulFlops: minRuns must be a positive integer, got ${minRuns}`);
  if (!(budget > 0)) throw new Error(`measureMatMulFlops: seconds must be positive, got ${budget}`);
  const g = new GraphBuilder('matmul-probe');
  g.output(matMul(g.input('a', 'float32', [n, n]), g.input('b', 'float32', [n, n])), 'c');
  const session = await Session.create(g, { device: options.device ?? 'cpu', ...(options.threads !== undefined ? { threads: options.threads } : {}) });
  try {
    // Values in [-0.5, 0.5) from a fixed LCG: no denormals, nothing the kernel could skip.
    let seed = 12345;
    const fill = () => Float32Array.from({ length: n * n }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5);
    const feeds = { a: { dtype: 'float32' as const, dims: [n, n], data: fill() }, b: { dtype: 'float32' as const, dims: [n, n], data: fill() } };
    await session.run(feeds); // warm-up: first run allocates and packs
    let best = Infinity;
    let runs = 0;
    const start = performance.now();
    while (runs < minRuns || (performance.now() - start) / 1000 < budget) {
      const t0 = performance.now();
      await session.run(feeds);
      best = Math.min(best, (performance.now() - t0) / 1000);
      runs++;
    }
    return { size: n, runs, flopsPerSecond: (2 * n ** 3) / best, bestSeconds: best };
  } finally {
    await session.release();
  }
}
