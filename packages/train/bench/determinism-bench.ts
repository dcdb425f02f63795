/**
 * Is a training step bit-reproducible at a fixed thread count, and what does determinism cost?
 * Runs the same K steps from the same state `repeats` times per setting (threads × ORT's
 * session.use_deterministic_compute), compares losses and gradient norms bit for bit, and times each.
 * Settings take turns within each round, so machine load hits them alike. JSON on stdout.
 * Also times the cost of the fix: the token-embedding gradient as ScatterND(add) (racy at threads ≥ 2)
 * against ScatterElements(add) (what @cs336/graph's Gather rule emits now), alternating, at the
 * course-256 shape (B·T = 1024 rows of 256 into a 10k vocabulary), next to one training step above.
 * Run: pnpm --filter @cs336/train exec tsx bench/determinism-bench.ts. Env: BENCH_REPEATS (default 4).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GraphBuilder, Session, hostTensor, scatterElements, scatterND, expand, reshape, shape } from '@cs336/graph';
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
  const scatter = await scatterCost(1024, 256, 10_000);
  console.log(JSON.stringify({
    machine: `${os.cpus()[0]?.model} ×${os.availableParallelism()}, Node ${process.version}`,
    model, batchSize: B, k: K, repeats,
    settings: settings.map((s, i) => ({
      ...s,
      distinctResults: results[i]!.fingerprints.size,
      lastGradNorms: results[i]!.gradNorms,
      medianSeconds: Number(median(results[i]!.seconds).toFixed(3)),
    })),
    embeddingGradientMs: scatter,
  }, null, 2));
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Median ms of one embedding-gradient scatter, ScatterND vs ScatterElements, taking turns, at 2 threads. */
async function scatterCost(rows: number, width: number, vocabSize: number) {
  const build = (kind: 'ScatterND' | 'ScatterElements') => {
    const g = new GraphBuilder(kind);
    const zeros = g.input('zeros', 'float32', [vocabSize, width]);
    const ids = g.input('ids', 'int64', [rows, 1]);
    const dy = g.input('dy', 'float32', [rows, width]);
    g.output(kind === 'ScatterND' ? scatterND(zeros, ids, dy, 'add') : scatterElements(zeros, expand(reshape(ids, [-1, 1]), shape(dy)), dy, 0, 'add'), 'grad');
    return Session.create(g, { threads: 2 });
  };
  const sessions = { ScatterND: await build('ScatterND'), ScatterElements: await build('ScatterElements') };
  const random = Random.seeded(5);
  const feeds = {
    zeros: hostTensor('float32', [vocabSize, width]),
    ids: hostTensor('int64', [rows, 1], BigInt64Array.from({ length: rows }, () => BigInt(random.nextInt(vocabSize)))),
    dy: hostTensor('float32', [rows, width], Float32Array.from({ length: rows * width }, () => random.nextFloat())),
  };
  const times: Record<string, number[]> = { ScatterND: [], ScatterElements: [] };
  for (let r = 0; r < 21; r++) {
    for (const [name, session] of Object.entries(sessions)) {
      const start = performance.now();
      await session.run(feeds);
      times[name]!.push(performance.now() - start);
    }
  }
  for (const session of Object.values(sessions)) await session.release();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { rows, width, vocabSize, scatterND: Number(median(times.ScatterND!).toFixed(2)), scatterElements: Number(median(times.ScatterElements!).toFixed(2)) };
}
