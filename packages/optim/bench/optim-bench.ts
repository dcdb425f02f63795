/**
 * Host-side AdamW and gradient-clipping throughput on typed arrays. Prints one JSON object.
 * Run: pnpm --filter @cs336/optim build && pnpm --filter @cs336/optim bench
 */
import os from 'node:os';
import { adamwStep, clipGradientNorm, createAdamWState, resolveAdamWConfig } from '@cs336/optim';

const size = Number(process.env.BENCH_PARAMS ?? 4_000_000);
const iterations = Number(process.env.BENCH_ITERATIONS ?? 5);

function measure(fn: () => void): number {
  fn(); // warm-up (JIT)
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

const results: Record<string, unknown> = {};
for (const dtype of ['float32', 'float64'] as const) {
  const make = () => (dtype === 'float32' ? new Float32Array(size) : new Float64Array(size)).map((_, i) => Math.sin(i) * 0.01);
  const params = make();
  const grads = make();
  const state = createAdamWState([params]);
  const config = resolveAdamWConfig();
  const adamMs = measure(() => adamwStep([params], [grads], state, config));
  const clipMs = measure(() => clipGradientNorm([grads], 1e-3));
  results[dtype] = {
    adamwMedianMs: Number(adamMs.toFixed(1)),
    adamwParamsPerSecond: Math.round(size / (adamMs / 1000)),
    clipMedianMs: Number(clipMs.toFixed(1)),
  };
}
console.log(JSON.stringify({ bench: 'optim/host', cpu: os.cpus()[0]?.model, cores: os.cpus().length, params: size, iterations, ...results }, null, 2));
