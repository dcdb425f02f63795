/**
 * Training speed of the ablation variants, measured side by side: the experiment runs' own tokens/s
 * come from different times on a shared machine, so wall-clock comparisons between variants need this.
 * Every variant of the cpu-scale parallel-layers, post-norm, no-norm and batch-size specs gets a
 * training session; then each round runs every session once (interleaved, so load changes hit all
 * alike) on about 4096 tokens (K = 4096 / (B·T) fused steps, at least 1). Prints JSON: per variant the
 * median tokens/s over the rounds and its ratio to the pre-norm serial batch-16 baseline.
 * Run: pnpm --filter @cs336/experiments bench (build first). Env: BENCH_THREADS (default 1), BENCH_ROUNDS (3).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initParameters } from '@cs336/nn';
import { Random, TrainingSession, buildArtifacts } from '@cs336/train';
import { loadExperimentSpec, resolveVariants, type ResolvedVariant } from '../src/index.js';

const threads = Number(process.env.BENCH_THREADS ?? 1);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const TOKENS_PER_CALL = 4096;

interface Entry { name: string; variant: ResolvedVariant; session: TrainingSession; k: number; tokens: () => BigInt64Array; seconds: number[] }

/** Each distinct (model, batch size) once, named after the first experiment/variant that has it. */
function distinct(experiments: string[]): Array<{ name: string; variant: ResolvedVariant }> {
  const seen = new Map<string, { name: string; variant: ResolvedVariant }>();
  for (const experiment of experiments) {
    for (const variant of resolveVariants(loadExperimentSpec(experiment).spec, 'cpu')) {
      const key = JSON.stringify([variant.model, variant.train.batchSize]);
      if (!seen.has(key)) seen.set(key, { name: `${experiment}/${variant.name}`, variant });
    }
  }
  return [...seen.values()];
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'variant-speed-'));
const entries: Entry[] = [];
try {
  for (const { name, variant } of distinct(['parallel-layers', 'post-norm', 'no-norm', 'batch-size'])) {
    const { model, train } = variant;
    const B = train.batchSize;
    const T = train.contextLength || model.contextLength;
    const dir = path.join(root, name.replace('/', '-'));
    const artifacts = buildArtifacts(dir, { model, batchSize: B, contextLength: T }, { beta1: train.beta1, beta2: train.beta2, eps: train.eps, weightDecay: train.weightDecay, gradClip: train.gradClip });
    const state = TrainingSession.freshState(initParameters(model, { seed: 0 }), artifacts.manifest);
    const session = await TrainingSession.create(dir, artifacts.manifest, state, { threads });
    const k = Math.max(1, Math.round(TOKENS_PER_CALL / (B * T)));
    const random = Random.seeded(7);
    const tokens = () => BigInt64Array.from({ length: k * B * (T + 1) }, () => BigInt(random.nextInt(model.vocabSize)));
    await session.runSteps(tokens(), new Float32Array(k).fill(1e-3)); // warm-up: the first run allocates
    entries.push({ name, variant, session, k, tokens, seconds: [] });
  }
  for (let r = 0; r < rounds; r++) {
    for (const entry of entries) {
      const batch = entry.tokens();
      const start = performance.now();
      await entry.session.runSteps(batch, new Float32Array(entry.k).fill(1e-3));
      entry.seconds.push((performance.now() - start) / 1000);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const results = entries.map((e) => {
    const B = e.variant.train.batchSize;
    const T = e.variant.train.contextLength || e.variant.model.contextLength;
    return { name: e.name, norm: e.variant.model.norm, parallel: e.variant.model.parallel, batchSize: B, contextLength: T, k: e.k, tokensPerSecond: Math.round((e.k * B * T) / median(e.seconds)) };
  });
  const baseline = results.find((r) => r.norm === 'pre' && !r.parallel && r.batchSize === 16)!;
  console.log(JSON.stringify({
    machine: `${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}`, node: process.version, loadAverage: os.loadavg().map((x) => Number(x.toFixed(1))),
    threads, rounds, tokensPerCall: TOKENS_PER_CALL,
    results: results.map((r) => ({ ...r, vsBaseline: Number((r.tokensPerSecond / baseline.tokensPerSecond).toFixed(3)) })),
  }, null, 2));
} finally {
  for (const e of entries) await e.session.release();
  fs.rmSync(root, { recursive: true, force: true });
}
