/**
 * Forward throughput of a small Transformer LM on ORT CPU (and the float64 reference for scale).
 * Prints one JSON object. Run: pnpm --filter @cs336/graph build && pnpm --filter @cs336/nn build && pnpm --filter @cs336/nn bench
 */
import os from 'node:os';
import { GraphBuilder, Session, hostTensor } from '@cs336/graph';
import { createParameterValues, initParameters, resolveTransformerConfig, transformerLm, transformerParameters } from '@cs336/nn';

const config = resolveTransformerConfig({ vocabSize: 10_000, contextLength: 256, dModel: 256, numLayers: 4, numHeads: 8, dFf: 1024 });
const batch = Number(process.env.BENCH_BATCH ?? 4);
const seqLen = config.contextLength;
const iterations = Number(process.env.BENCH_ITERATIONS ?? 5);

const specs = transformerParameters(config);
const weights = initParameters(config, { seed: 0 });
const g = new GraphBuilder('lm');
const params = createParameterValues(g, specs, 'float32');
g.output(transformerLm(g.input('ids', 'int64', ['B', 'T']), params, config), 'logits');
const session = await Session.create(g);
const feeds = Object.fromEntries(specs.map((s) => [s.name, hostTensor('float32', s.shape, weights[s.name]!)]));
const ids = BigInt64Array.from({ length: batch * seqLen }, (_, i) => BigInt((i * 7919) % config.vocabSize));
const run = () => session.run({ ...feeds, ids: hostTensor('int64', [batch, seqLen], ids) });

await run(); // warm-up: first run allocates ORT's arena
const times: number[] = [];
for (let i = 0; i < iterations; i++) {
  const start = performance.now();
  await run();
  times.push(performance.now() - start);
}
await session.release();
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
console.log(JSON.stringify({
  bench: 'nn/transformer-lm-forward',
  device: 'cpu',
  cpu: os.cpus()[0]?.model, cores: os.cpus().length,
  config: { ...config }, batch, seqLen, iterations,
  medianMs: Number(median.toFixed(1)),
  tokensPerSecond: Math.round((batch * seqLen) / (median / 1000)),
  parameters: specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0),
}, null, 2));
