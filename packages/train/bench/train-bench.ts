/**
 * Training throughput on this machine's CPU, printed as JSON:
 *  - peak: the ORT MatMul rate (a large square MatMul built with @cs336/graph, same thread count),
 *  - per config: tokens/s, achieved FLOP/s (handout matmul accounting, training step = 3× forward),
 *    MFU = achieved / peak, and the share of wall time spent outside Session.run (host work:
 *    batch sampling, feeding and copying parameters back),
 *  - generation: tokens/s of generate() (greedy) with InferenceModel's KV cache against recomputing
 *    the whole padded window for every token (the infer graph, what InferenceModel did before the
 *    cache), after checking both generate the same ids; and with the cache, sampling at temperature
 *    0.8, top-p 0.95; greedy with the parameters baked into the graphs (the default) against fed on every
 *    run, alternated. BENCH_GENERATE=0 skips it, BENCH_GENERATE_CONFIGS picks its configs, BENCH_TRAIN=0
 *    skips the training configs. BENCH_K=8,32 times every training config at each of those K.
 *    BENCH_PRECISION=fp32,fp16 times every training config at each precision (default fp32); each row
 *    records its precision. MFU is always against the fp32 MatMul peak, so an fp16 row's MFU above an
 *    fp32 row's means the float16 kernels beat that peak (tensor cores on CUDA); on the CPU they do not.
 * Run: pnpm --filter @cs336/train bench (build the workspace first). Env: BENCH_THREADS, BENCH_RUNS,
 * BENCH_DEVICE (cpu | cuda; cuda needs the provider, see @cs336/graph's README), BENCH_CONFIGS (names,
 * comma-separated; default small,course-256 on cpu and course-256,tinystories on cuda).
 * For the GPU machine, scripts/gpu-bundle.sh bundles this file with onnxruntime-node into one folder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Session, type HostTensor } from '@cs336/graph';
import { accounting, initParameters, resolveTransformerConfig, transformerParameters, type TransformerConfig } from '@cs336/nn';
import {
  IDS_INPUT, InferenceModel, LAST_POSITION_INPUT, LOGITS_OUTPUT, Random, TrainingSession, buildArtifacts, buildInferGraph, generate,
  type NextTokenModel, type Precision,
} from '@cs336/train';
import { matMulPeak } from './matmul-peak.js';

const threads = Number(process.env.BENCH_THREADS ?? os.availableParallelism());
const runs = Number(process.env.BENCH_RUNS ?? 3);
const deviceName = process.env.BENCH_DEVICE ?? 'cpu';
if (deviceName !== 'cpu' && deviceName !== 'cuda') throw new Error(`BENCH_DEVICE must be cpu or cuda, got "${deviceName}"`);
const device: 'cpu' | 'cuda' = deviceName;

interface BenchConfig { name: string; model: Partial<TransformerConfig>; batchSize: number; k: number; precision?: Precision }

async function benchConfig(config: BenchConfig) {
  const model = resolveTransformerConfig(config.model);
  const T = model.contextLength;
  const B = config.batchSize;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'train-bench-'));
  try {
    const buildStart = performance.now();
    const precision = config.precision ?? 'fp32';
    const artifacts = buildArtifacts(dir, { model, batchSize: B, contextLength: T, precision },
      { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1, ...(precision === 'fp16' ? { lossScaleWindow: 2000 } : {}) });
    const buildSeconds = (performance.now() - buildStart) / 1000;
    const state = TrainingSession.freshState(initParameters(model, { seed: 0 }), artifacts.manifest);
    const session = await TrainingSession.create(dir, artifacts.manifest, state, { threads, device });
    const random = Random.seeded(7);
    const batch = () => BigInt64Array.from({ length: config.k * B * (T + 1) }, () => BigInt(random.nextInt(model.vocabSize)));
    const lrs = new Float32Array(config.k).fill(1e-3);
    await session.runSteps(batch(), lrs); // warm-up (first run allocates)
    session.runSeconds = 0;
    const start = performance.now();
    for (let r = 0; r < runs; r++) await session.runSteps(batch(), lrs);
    const wall = (performance.now() - start) / 1000;
    const inRun = session.runSeconds;
    await session.release();
    const tokens = runs * config.k * B * T;
    const flopsPerToken = accounting(model, { batchSize: B, seqLen: T }).flopsPerToken.trainingStep;
    const tokensPerSecond = tokens / wall;
    return {
      name: config.name, precision, model: config.model, batchSize: B, contextLength: T, k: config.k, runs,
      artifactBuildSeconds: Number(buildSeconds.toFixed(2)),
      tokensPerSecond: Math.round(tokensPerSecond),
      achievedGflops: Number(((tokensPerSecond * flopsPerToken) / 1e9).toFixed(2)),
      flopsPerSecond: tokensPerSecond * flopsPerToken,
      shareOutsideSessionRun: Number((1 - inRun / wall).toFixed(3)),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The infer graph as a NextTokenModel: the whole window, padded to the context, for every token. */
async function recomputingModel(model: TransformerConfig, parameters: Map<string, Float32Array>): Promise<NextTokenModel & { release(): Promise<void> }> {
  const session = await Session.create(buildInferGraph(model), { threads, device });
  const T = model.contextLength;
  return {
    contextLength: T,
    vocabSize: model.vocabSize,
    async nextTokenLogits(ids) {
      const feeds: Record<string, HostTensor> = {
        [IDS_INPUT]: { dtype: 'int64', dims: [1, T], data: BigInt64Array.from({ length: T }, (_, i) => BigInt(ids[i] ?? 0)) },
        [LAST_POSITION_INPUT]: { dtype: 'int64', dims: [], data: new BigInt64Array([BigInt(ids.length - 1)]) },
      };
      for (const spec of transformerParameters(model)) feeds[spec.name] = { dtype: 'float32', dims: spec.shape, data: parameters.get(spec.name)! };
      return (await session.run(feeds))[LOGITS_OUTPUT]!.data as Float32Array;
    },
    release: () => session.release(),
  };
}

async function benchGeneration(config: BenchConfig) {
  const model = resolveTransformerConfig(config.model);
  const parameters = new Map(Object.entries(initParameters(model, { seed: 0 })).map(([name, data]) => [name, Float32Array.from(data)]));
  const prompt = [1, 2, 3, 4, 5, 6, 7, 8];
  const newTokens = model.contextLength - prompt.length;
  const timed = async (m: NextTokenModel, sampling: { temperature: number; topP?: number } = { temperature: 0 }) => {
    await generate(m, prompt, { maxNewTokens: 4, ...sampling }); // warm-up
    const start = performance.now();
    const ids = await generate(m, prompt, { maxNewTokens: newTokens, ...sampling });
    return { ids, tokensPerSecond: newTokens / ((performance.now() - start) / 1000) };
  };
  // Baked (parameters as initializers, the default) and fed (every parameter an input on every run),
  // alternated twice so that a load change on the shared machine hits both; the best of each is kept.
  const cached = await InferenceModel.fromParameters(model, parameters, { threads, device, weights: 'baked' });
  const fed = await InferenceModel.fromParameters(model, parameters, { threads, device, weights: 'fed' });
  const rounds: { baked: Awaited<ReturnType<typeof timed>>; fed: Awaited<ReturnType<typeof timed>> }[] = [];
  for (let round = 0; round < 2; round++) rounds.push({ fed: await timed(fed), baked: await timed(cached) });
  const best = (which: 'baked' | 'fed') => rounds.map((r) => r[which]).reduce((a, b) => (b.tokensPerSecond > a.tokensPerSecond ? b : a));
  const withCache = best('baked');
  const withFed = best('fed');
  if (withCache.ids.join() !== withFed.ids.join()) throw new Error(`generation bench ${config.name}: baked and fed weights generated different ids`);
  const sampled = await timed(cached, { temperature: 0.8, topP: 0.95 }); // the CLI's usual sampling
  await cached.release();
  await fed.release();
  const recomputing = await recomputingModel(model, parameters);
  const without = await timed(recomputing);
  await recomputing.release();
  if (withCache.ids.join() !== without.ids.join()) throw new Error(`generation bench ${config.name}: the KV cache generated different ids from full recomputation`);
  return {
    name: config.name, contextLength: model.contextLength, promptTokens: prompt.length, newTokens, idsIdentical: true,
    kvCacheTokensPerSecond: Number(withCache.tokensPerSecond.toFixed(1)),
    kvCacheSampledTokensPerSecond: Number(sampled.tokensPerSecond.toFixed(1)),
    kvCacheFedTokensPerSecond: Number(withFed.tokensPerSecond.toFixed(1)),
    bakedOverFed: Number((withCache.tokensPerSecond / withFed.tokensPerSecond).toFixed(2)),
    recomputeTokensPerSecond: Number(without.tokensPerSecond.toFixed(1)),
    speedup: Number((withCache.tokensPerSecond / without.tokensPerSecond).toFixed(2)),
  };
}

const CONFIGS: BenchConfig[] = [
  { name: 'small', model: { vocabSize: 2048, contextLength: 128, dModel: 128, numLayers: 4, numHeads: 4, dFf: 512 }, batchSize: 8, k: 8 },
  // The real-run shape (issue 7): d_model 256, 4 layers, 8 heads, context 128, 10k BPE vocabulary.
  { name: 'course-256', model: { vocabSize: 10_000, contextLength: 128, dModel: 256, numLayers: 4, numHeads: 8, dFf: 1024 }, batchSize: 8, k: 4 },
  // The handout's TinyStories model at the batch PyTorch was timed with on an H100 (a GPU config).
  { name: 'tinystories', model: { vocabSize: 10_000, contextLength: 256, dModel: 512, numLayers: 4, numHeads: 16, dFf: 2048 }, batchSize: 128, k: 8 },
];
const wanted = (process.env.BENCH_CONFIGS ?? (device === 'cuda' ? 'course-256,tinystories' : 'small,course-256')).split(',');
const selected = CONFIGS.filter((c) => wanted.includes(c.name));
if (selected.length !== wanted.length) throw new Error(`BENCH_CONFIGS: unknown name in "${wanted.join(',')}"; choose from ${CONFIGS.map((c) => c.name).join(', ')}`);
const peakSize = device === 'cuda' ? 8192 : 1024;

// The machine is shared, so the peak is measured before and after the configs and the higher one is used
// (the conservative choice: a lower MFU).
const peakBefore = await matMulPeak(peakSize, { threads, device });
const measured = [];
// BENCH_TRAIN=0 skips the training configs (generation only).
// BENCH_K=8,32 times each config at those fused steps per call instead of its own k.
const ks = process.env.BENCH_K?.split(',').map((k) => {
  if (!/^[1-9]\d*$/.test(k)) throw new Error(`BENCH_K: "${k}" is not a positive integer`);
  return Number(k);
});
const precisions = (process.env.BENCH_PRECISION ?? 'fp32').split(',').map((p) => {
  if (p !== 'fp32' && p !== 'fp16') throw new Error(`BENCH_PRECISION: "${p}" is not fp32 or fp16`);
  return p;
});
if (process.env.BENCH_TRAIN !== '0') {
  for (const config of selected) {
    for (const k of ks ?? [config.k]) for (const precision of precisions) measured.push(await benchConfig({ ...config, k, precision }));
  }
}
const peak = Math.max(peakBefore, await matMulPeak(peakSize, { threads, device }));
const results = measured.map(({ flopsPerSecond, ...rest }) => ({ ...rest, mfu: Number((flopsPerSecond / peak).toFixed(3)) }));
const generation = [];
if (process.env.BENCH_GENERATE !== '0') {
  for (const name of (process.env.BENCH_GENERATE_CONFIGS ?? 'course-256,tinystories').split(',')) generation.push(await benchGeneration(CONFIGS.find((c) => c.name === name) ?? (() => { throw new Error(`BENCH_GENERATE_CONFIGS: unknown name "${name}"`); })()));
}
console.log(JSON.stringify({
  machine: { device, cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', threads, loadAverage: os.loadavg().map((x) => Number(x.toFixed(2))) },
  matMulPeakSize: peakSize,
  matMulPeakGflops: Number((peak / 1e9).toFixed(2)),
  matMulPeakGflopsBefore: Number((peakBefore / 1e9).toFixed(2)),
  configs: results,
  generation,
}, null, 2));
