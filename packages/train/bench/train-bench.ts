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
 *    run, alternated (all in the step mode); then the decode loop against the step mode, greedy and
 *    sampled, alternated, per chunk size (BENCH_DECODE_CHUNKS, default 32), each mode reported on its
 *    own (and the loop with a preallocated fixed-size cache, BENCH_DECODE_FIXED=0 skips it), with the
 *    bytes per token each sends over the host link. BENCH_GENERATE=0 skips it, BENCH_GENERATE_CONFIGS picks its configs, BENCH_TRAIN=0
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
  type DecodeMode, type NextTokenModel, type Precision,
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

// BENCH_DECODE_CHUNKS=8,32: the decode loop's tokens per run (generate's decodeChunk), each timed against the step mode.
const decodeChunks = (process.env.BENCH_DECODE_CHUNKS ?? '32').split(',').map((k) => {
  if (!/^[1-9]\d*$/.test(k)) throw new Error(`BENCH_DECODE_CHUNKS: "${k}" is not a positive integer`);
  return Number(k);
});

/**
 * Mean bytes over the host link per generated token for a run from `prompt` to `prompt + tokens`
 * (ids, logits and the cache; parameters baked). Step: each token's run sends the cache [1, h, P, dk]
 * of every layer in and gets it back one position longer, plus V logits back. Loop: each chunk sends
 * the cache once and gets it back once, plus the uniforms in and the ids out.
 */
function hostLinkBytes(model: TransformerConfig, prompt: number, tokens: number, chunks: readonly number[]): Record<string, number> {
  const perPosition = 2 * model.numLayers * model.dModel * 4; // k and v, all heads, float32
  let step = 0;
  for (let p = prompt; p < prompt + tokens - 1; p++) step += 8 + 8 + p * perPosition + (p + 1) * perPosition + model.vocabSize * 4;
  const result: Record<string, number> = { step: Math.round(step / (tokens - 1)) };
  for (const chunk of chunks) {
    let bytes = 0;
    for (let p = prompt; p < prompt + tokens - 1; p += chunk) {
      const n = Math.min(chunk, prompt + tokens - 1 - p);
      bytes += 8 + 8 + 8 + p * perPosition + n * 8 + (p + n) * perPosition + n * 8;
    }
    result[`loop${chunk}`] = Math.round(bytes / (tokens - 1));
  }
  return result;
}

async function benchGeneration(config: BenchConfig) {
  const model = resolveTransformerConfig(config.model);
  const parameters = new Map(Object.entries(initParameters(model, { seed: 0 })).map(([name, data]) => [name, Float32Array.from(data)]));
  const prompt = [1, 2, 3, 4, 5, 6, 7, 8];
  const newTokens = model.contextLength - prompt.length;
  type Sampling = { temperature: number; topP?: number; seed?: number };
  type Decode = { decode: DecodeMode; decodeChunk?: number };
  const timed = async (m: NextTokenModel, sampling: Sampling = { temperature: 0 }, decode: Decode = { decode: 'step' }) => {
    await generate(m, prompt, { maxNewTokens: 4, ...sampling, ...decode }); // warm-up (builds the loop's session)
    const start = performance.now();
    const ids = await generate(m, prompt, { maxNewTokens: newTokens, ...sampling, ...decode });
    return { ids, tokensPerSecond: newTokens / ((performance.now() - start) / 1000) };
  };
  const fastest = <T extends { tokensPerSecond: number }>(results: T[]): T => results.reduce((a, b) => (b.tokensPerSecond > a.tokensPerSecond ? b : a));
  // Baked (parameters as initializers, the default) and fed (every parameter an input on every run),
  // alternated twice so that a load change on the shared machine hits both; the best of each is kept.
  // These are the step mode (one decode_step run per token).
  const cached = await InferenceModel.fromParameters(model, parameters, { threads, device, weights: 'baked' });
  const fed = await InferenceModel.fromParameters(model, parameters, { threads, device, weights: 'fed' });
  const rounds: { baked: Awaited<ReturnType<typeof timed>>; fed: Awaited<ReturnType<typeof timed>> }[] = [];
  for (let round = 0; round < 2; round++) rounds.push({ fed: await timed(fed), baked: await timed(cached) });
  const best = (which: 'baked' | 'fed') => fastest(rounds.map((r) => r[which]));
  const withCache = best('baked');
  const withFed = best('fed');
  if (withCache.ids.join() !== withFed.ids.join()) throw new Error(`generation bench ${config.name}: baked and fed weights generated different ids`);
  const usual: Sampling = { temperature: 0.8, topP: 0.95, seed: 0 }; // the CLI's usual sampling
  // Step against loop (decode_loop, the KV cache carried inside one run per chunk), baked weights, greedy
  // and sampled, alternated per chunk size; the ids of both modes must agree.
  // The loop's cache grows by a Concat per step (the default) or sits preallocated at the full context
  // ('fixed'); BENCH_DECODE_FIXED=0 leaves the fixed layout out.
  const fixed = process.env.BENCH_DECODE_FIXED === '0' ? undefined : await InferenceModel.fromParameters(model, parameters, { threads, device, weights: 'baked', decodeCache: 'fixed' });
  const loop = [];
  for (const decodeChunk of decodeChunks) {
    type Timed = Awaited<ReturnType<typeof timed>>;
    const results = { greedy: { step: [] as Timed[], loop: [] as Timed[], fixed: [] as Timed[] }, sampled: { step: [] as Timed[], loop: [] as Timed[], fixed: [] as Timed[] } };
    for (let round = 0; round < 2; round++) {
      for (const [which, sampling] of [['greedy', { temperature: 0 }], ['sampled', usual]] as const) {
        results[which].step.push(await timed(cached, sampling, { decode: 'step' }));
        results[which].loop.push(await timed(cached, sampling, { decode: 'loop', decodeChunk }));
        if (fixed) results[which].fixed.push(await timed(fixed, sampling, { decode: 'loop', decodeChunk }));
      }
    }
    // On the CPU the ids are equal bit for bit (tested); on another device a kernel may round or order ties
    // differently, so a difference is reported (the first differing position), not thrown.
    const report: Record<string, number | boolean> = { decodeChunk, idsIdentical: true };
    const compare = (label: string, a: number[], b: number[]) => {
      const at = a.findIndex((id, i) => id !== b[i]);
      if (at < 0 && a.length === b.length) return;
      report.idsIdentical = false;
      report[`${label}FirstDifference`] = at < 0 ? Math.min(a.length, b.length) : at;
    };
    for (const which of ['greedy', 'sampled'] as const) {
      const step = fastest(results[which].step);
      const inLoop = fastest(results[which].loop);
      compare(`${which}Loop`, step.ids, inLoop.ids);
      report[`${which}StepTokensPerSecond`] = Number(step.tokensPerSecond.toFixed(1));
      report[`${which}LoopTokensPerSecond`] = Number(inLoop.tokensPerSecond.toFixed(1));
      report[`${which}LoopOverStep`] = Number((inLoop.tokensPerSecond / step.tokensPerSecond).toFixed(2));
      if (fixed) {
        const inFixed = fastest(results[which].fixed);
        compare(`${which}LoopFixedCache`, step.ids, inFixed.ids);
        report[`${which}LoopFixedCacheTokensPerSecond`] = Number(inFixed.tokensPerSecond.toFixed(1));
      }
    }
    loop.push(report);
  }
  await fixed?.release();
  const sampled = await timed(cached, usual);
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
    // Host-link bytes per generated token, from the shapes (float32 cache [1, h, P, dk] per layer, k and v).
    hostLinkBytesPerToken: hostLinkBytes(model, prompt.length, newTokens, decodeChunks),
    loop,
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
