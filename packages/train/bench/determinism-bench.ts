/**
 * Is a training step bit-reproducible at a fixed thread count, and what does determinism cost?
 * Runs the same K steps from the same state `repeats` times per setting (threads × ORT's
 * session.use_deterministic_compute), compares losses and gradient norms bit for bit, and times each.
 * Settings take turns within each round, so machine load hits them alike. JSON on stdout.
 * Run: pnpm --filter @cs336/train exec tsx bench/determinism-bench.ts. Env: BENCH_REPEATS (default 4).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initParameters, resolveTransformerConfig } from '@cs336/nn';
import { Random, TrainingSession, buildArtifacts } from '@cs336/train';

const repeats = Number(process.env.BENCH_REPEATS ?? 4);
// The pipeline's model (cs336 pipeline) at its vocabulary size.
const model = resolveTransformerConfig({ vocabSize: 4096, contextLength: 128, dModel: 128, numLayers: 2, numHeads: 4, dFf: 512 });
const B = 16;
const T = model.contextLength;
const K = 2;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'determinism-bench-'));
try {
  const artifacts = buildArtifacts(dir, { model, batchSize: B, contextLength: T }, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1 });
  const initial = initParameters(model, { seed: 0 });
  const random = Random.seeded(3);
  const tokens = BigInt64Array.from({ length: K * B * (T + 1) }, () => BigInt(random.nextInt(model.vocabSize)));
  const lrs = new Float32Array(K).fill(3e-3);
  const settings = [
    { threads: 1, deterministicCompute: false },
    { threads: 2, deterministicCompute: false },
    { threads: 2, deterministicCompute: true },
  ];
  const results = settings.map(() => ({ fingerprints: new Set<string>(), seconds: [] as number[], gradNorms: [] as number[] }));
  for (let r = 0; r < repeats; r++) {
    for (const [i, setting] of settings.entries()) {
      const session = await TrainingSession.create(dir, artifacts.manifest, TrainingSession.freshState(initial, artifacts.manifest), setting);
      const start = performance.now();
      const { losses, gradNorms } = await session.runSteps(tokens, lrs);
      results[i]!.seconds.push((performance.now() - start) / 1000);
      const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
      results[i]!.fingerprints.add(bits(losses) + bits(gradNorms) + bits(session.state.parameters.get('lm_head.weight')!));
      results[i]!.gradNorms.push(gradNorms[K - 1]!);
      await session.release();
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(JSON.stringify({
    machine: `${os.cpus()[0]?.model} ×${os.availableParallelism()}, Node ${process.version}`,
    model, batchSize: B, k: K, repeats,
    settings: settings.map((s, i) => ({
      ...s,
      distinctResults: results[i]!.fingerprints.size,
      lastGradNorms: results[i]!.gradNorms,
      medianSeconds: Number(median(results[i]!.seconds).toFixed(3)),
    })),
  }, null, 2));
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
