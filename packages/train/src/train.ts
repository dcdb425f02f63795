/**
 * train(): the training loop. Each ONNX Runtime call runs a chunk of up to K optimizer steps; chunks
 * end on evaluation and checkpoint boundaries so those happen at the same steps whatever K is.
 *
 * Exact resume: the batch for step s is drawn from Random.seeded(seed, s) and the learning rate is
 * cosineLearningRate(s), both functions of the step alone; the checkpoint holds the parameters and
 * moments bit for bit. So with the same ORT build, device and thread count, a resumed run replays
 * exactly the per-step losses of an uninterrupted one. (Dropout > 0 breaks this: ORT's Dropout
 * keeps its own generator state inside the session.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { initParameters, parameterCount, resolveTransformerConfig, transformerParameters, type TransformerConfig } from '@cs336/nn';
import { cosineLearningRate } from '@cs336/optim';
import { buildArtifacts } from './artifacts.js';
import { checkpointPath, loadCheckpoint, readCheckpointMetadata, saveCheckpoint, type CheckpointMetadata } from './checkpoint.js';
import { canonicalJson, describeDifferences } from './config-hash.js';
import { loadInitialParameters } from './init-from.js';
import { writeLossCurve } from './loss-curve.js';
import { LOSS_SCALE_BACKOFF } from './loss-scale.js';
import { MetricsLog, type MetricsRecord } from './metrics.js';
import { Random } from './random.js';
import { RunStateError, checkSameData, dataIdentity, describeIdentity, savedIdentity } from './run-identity.js';
import type { Tensor } from './safetensors.js';
import { TokenFile, sampleWindows, sequentialBatchCount, sequentialWindows } from './token-file.js';
import { resolveTrainConfig, type TrainConfig } from './train-config.js';
import { TrainingSession, type TrainingState } from './training-session.js';

export interface TrainRunConfig {
  model: Partial<TransformerConfig>;
  train: Partial<TrainConfig>;
  /** Continue from runDir's checkpoint (a fresh run when there is none); refused when it was trained on other data. */
  resume?: boolean;
  /**
   * Replace a checkpoint already in runDir with a new run. Without `resume` or `fresh`, a runDir
   * that holds a checkpoint is refused (RunStateError), so a finished run is never overwritten by accident.
   */
  fresh?: boolean;
}

export interface TrainProgress {
  step: number;
  steps: number;
  tokensSeen: number;
  loss: number;
  lr: number;
  tokensPerSecond: number;
  /** fp16: the loss scale after the chunk, and how many of its steps were skipped (gradients overflowed). */
  lossScale?: number;
  skippedSteps?: number;
}

export interface TrainHooks {
  /** Human-readable lines (config, derived numbers, evals, checkpoints). Default: silent. */
  log?: (line: string) => void;
  /** Once, before the first step runs (step > 0 when resuming). */
  onStart?: (info: { step: number; steps: number; parameterCount: number; tokensPerStep: number }) => void;
  /** After each chunk of steps. */
  onProgress?: (progress: TrainProgress) => void;
  /** After each step's metrics record is written. */
  onStep?: (record: MetricsRecord) => void;
  onCheckpoint?: (file: string, step: number) => void;
  /** Aborting stops after the current chunk with a checkpoint (what SIGINT/SIGTERM do). */
  signal?: AbortSignal;
  /** Install SIGINT/SIGTERM handlers that request a stop; default false (the CLI turns it on). */
  handleSignals?: boolean;
}

export interface TrainResult {
  step: number;
  /** True when stopped by a signal/abort before `steps`. */
  interrupted: boolean;
  finalTrainLoss: number | undefined;
  finalValLoss: number | undefined;
  checkpoint: string;
  metricsFile: string;
  runDir: string;
}

/** Thrown when a step's loss or gradient norm is NaN/Inf; the last good checkpoint is left as it was. */
export class NonFiniteLossError extends Error {
  constructor(message: string, readonly step: number) {
    super(message);
    this.name = 'NonFiniteLossError';
  }
}

export const METRICS_FILE = 'metrics.jsonl';
export const ARTIFACTS_DIR = 'artifacts';

function toTensors(map: Map<string, Float32Array>, shapes: Map<string, readonly number[]>): Map<string, Tensor> {
  return new Map([...map].map(([name, data]) => [name, { dtype: 'float32', dims: shapes.get(name)!, data }]));
}

function fromTensors(map: Map<string, Tensor>, what: string): Map<string, Float32Array> {
  return new Map([...map].map(([name, t]) => {
    if (!(t.data instanceof Float32Array)) throw new Error(`checkpoint ${what} "${name}" is ${t.dtype}; training runs in float32`);
    return [name, t.data];
  }));
}

/** Steps at which `every` fires: the next multiple of `every` after `step`. */
function nextMultiple(step: number, every: number): number {
  return every > 0 ? (Math.floor(step / every) + 1) * every : Infinity;
}

/**
 * The complete model and train configs of a run, and its training context length T; throws naming
 * the bad field. `train` starts with it; a front end calls it first to reject bad settings up front.
 */
export function resolveTrainRunConfig(config: Pick<TrainRunConfig, 'model' | 'train'>): { model: Readonly<TransformerConfig>; train: Readonly<TrainConfig>; contextLength: number } {
  const model = resolveTransformerConfig(config.model);
  const tc = resolveTrainConfig(config.train);
  const T = tc.contextLength || model.contextLength;
  if (T > model.contextLength) {
    throw new Error(`contextLength ${T} is longer than the model's contextLength ${model.contextLength} (its position embeddings end there); lower --context-length or raise model.contextLength`);
  }
  return { model, train: tc, contextLength: T };
}

export async function train(config: TrainRunConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  const { model, train: tc, contextLength: T } = resolveTrainRunConfig(config);
  const options = { vocabSize: model.vocabSize, ...(tc.dataDtype ? { dtype: tc.dataDtype } : {}) };
  const trainTokens = TokenFile.open(tc.trainData, options);
  let validTokens: TokenFile | undefined;
  try {
    validTokens = tc.validationData ? TokenFile.open(tc.validationData, options) : undefined;
    checkTokenFiles(tc, T, trainTokens, validTokens);
    return await runTraining(config, hooks, model, tc, T, trainTokens, validTokens);
  } finally {
    trainTokens.close();
    validTokens?.close();
  }
}

/**
 * Everything about the data that would otherwise fail mid-run: a training file that fills one window
 * and a validation file that fills one evaluation batch. (Every id below the vocabulary is checked with
 * the data's identity, in the same read that hashes the files: see run-identity.ts.)
 */
function checkTokenFiles(tc: Readonly<TrainConfig>, T: number, trainTokens: TokenFile, validTokens: TokenFile | undefined): void {
  if (trainTokens.length < T + 1) {
    throw new Error(`${trainTokens.path}: ${trainTokens.length} tokens cannot fill one training window of ${T + 1} (context ${T} + 1); lower --context-length or use more data`);
  }
  if (validTokens && sequentialBatchCount(validTokens, tc.batchSize, T) < 1) {
    const windows = Math.max(0, Math.floor((validTokens.length - 1) / T));
    throw new Error(`${validTokens.path}: ${validTokens.length} validation tokens make ${windows} windows of ${T + 1}, fewer than one evaluation batch of ${tc.batchSize}; ` +
      `lower --batch-size or --context-length, use a larger validation file, or train without one (--validation-data '')`);
  }
}

async function runTraining(config: TrainRunConfig, hooks: TrainHooks, model: Readonly<TransformerConfig>, tc: Readonly<TrainConfig>, T: number, trainTokens: TokenFile, validTokens: TokenFile | undefined): Promise<TrainResult> {
  const log = hooks.log ?? (() => {});
  const B = tc.batchSize;
  const specs = transformerParameters(model);
  const shapes = new Map(specs.map((s) => [s.name, s.shape]));
  const schedule = { maxLearningRate: tc.maxLearningRate, minLearningRate: tc.minLearningRate, warmupIters: tc.warmupSteps, cosineCycleIters: tc.cosineCycleSteps };
  const learningRate = (step: number) => cosineLearningRate(step, schedule);
  const checkpointFile = checkpointPath(tc.runDir);
  const metricsFile = path.join(tc.runDir, METRICS_FILE);
  // Stale or foreign state is refused before any work: continue only the same data, replace only on request.
  if (config.resume && config.fresh) throw new RunStateError('resume and fresh exclude each other: --resume continues the checkpoint, --fresh replaces it');
  const existing = fs.existsSync(checkpointFile);
  if (existing && !config.resume && !config.fresh) {
    let what = '';
    try {
      const meta = readCheckpointMetadata(checkpointFile)!;
      what = ` (step ${meta.step} of ${meta.trainConfig.steps ?? '?'}, trained on ${describeIdentity(savedIdentity(meta)) || 'unrecorded data'})`;
    } catch {
      what = ' (unreadable)';
    }
    throw new RunStateError(`${tc.runDir} already holds a checkpoint${what}. Pass --resume to continue it, --fresh to replace it, or choose a new --run-dir.`);
  }
  const { check, ...identity } = await dataIdentity(trainTokens, validTokens, model.vocabSize);
  log(`data: every id below ${model.vocabSize} (${check.bytesRead > 0 ? `${(check.bytesRead / 1e6).toFixed(1)} MB read and hashed in ${check.seconds.toFixed(2)} s` : 'known from the hash cache: files unchanged'})`);
  if (existing && config.resume) {
    const meta = readCheckpointMetadata(checkpointFile)!;
    checkSameData(checkpointFile, meta, identity);
    if (!meta.data) log(`note: ${checkpointFile} records no data hashes (an older checkpoint); only its tokenizer could be compared`);
  }
  if (existing && config.fresh) {
    fs.rmSync(checkpointFile);
    log(`--fresh: removed the checkpoint in ${tc.runDir}; starting over`);
  }
  fs.mkdirSync(tc.runDir, { recursive: true });

  log(`model: ${canonicalJson(model)}`);
  log(`train: ${canonicalJson(tc)}`);
  log(`parameters: ${parameterCount(specs).toLocaleString('en-US')}; tokens per step: B·T = ${B}·${T} = ${B * T}; ` +
    `train tokens: ${trainTokens.length.toLocaleString('en-US')}${validTokens ? `; validation tokens: ${validTokens.length.toLocaleString('en-US')}` : ''}`);

  // Read (and check) the checkpoint before building artifacts, so a mismatched config fails fast.
  const saved = config.resume && existing ? loadCheckpoint(checkpointFile, { modelConfig: { ...model }, parameters: specs }) : undefined;
  const initial = !saved && tc.initFrom ? loadInitialParameters(tc.initFrom, specs) : undefined;
  if (saved && tc.initFrom) log(`note: initFrom ${tc.initFrom} is ignored: resuming from the run's own checkpoint`);
  const fp16 = tc.precision === 'fp16';
  const artifacts = buildArtifacts(path.join(tc.runDir, ARTIFACTS_DIR), { model, batchSize: B, contextLength: T, ...(fp16 ? { precision: tc.precision } : {}) },
    { beta1: tc.beta1, beta2: tc.beta2, eps: tc.eps, weightDecay: tc.weightDecay, gradClip: tc.gradClip, ...(fp16 ? { lossScaleWindow: tc.lossScaleWindow } : {}) });
  log(`artifacts: ${artifacts.built ? 'built' : 'reused'} ${artifacts.dir} (config ${artifacts.manifest.configHash})`);

  let state: TrainingState;
  let wallOffset = 0;
  let bestValidationLoss: number | undefined;
  if (saved) {
    for (const key of ['seed', 'batchSize', 'maxLearningRate', 'minLearningRate', 'warmupSteps', 'cosineCycleSteps', 'trainData'] as const) {
      const before = saved.metadata.trainConfig[key];
      if (before !== undefined && canonicalJson(before) !== canonicalJson(tc[key])) log(`note: ${key} changed from ${canonicalJson(before)} to ${canonicalJson(tc[key])} since the checkpoint; the run will not replay an uninterrupted one`);
    }
    state = { parameters: fromTensors(saved.parameters, 'parameter'), m: fromTensors(saved.m, 'moment'), v: fromTensors(saved.v, 'moment'), step: saved.metadata.step };
    const savedScale = saved.metadata.lossScale;
    if (fp16) {
      // A checkpoint from an fp32 run starts loss scaling afresh; every update it made counts as applied.
      state.lossScale = savedScale ? { ...savedScale } : { scale: tc.lossScaleInit, cleanSteps: 0, appliedSteps: state.step };
      if (!savedScale) log(`note: ${checkpointFile} has no loss-scale state (an fp32 run); fp16 starts with loss scale ${tc.lossScaleInit}`);
    } else if (savedScale) {
      log(`note: ${checkpointFile} was trained with fp16; continuing in fp32, whose AdamW t counts every step (${state.step}), skipped ones included (${state.step - savedScale.appliedSteps})`);
    }
    wallOffset = saved.metadata.wallTimeSeconds ?? 0;
    bestValidationLoss = saved.metadata.bestValidationLoss;
    log(`resumed from ${checkpointFile} at step ${state.step}`);
  } else {
    if (config.resume) log(`no checkpoint at ${checkpointFile}; starting fresh`);
    if (initial) {
      const differences = initial.sourceModelConfig ? describeDifferences({ ...model }, initial.sourceModelConfig) : [];
      log(`initial weights: ${tc.initFrom} (${initial.kind}; fresh optimizer state)${differences.length ? `; note: its model config differs (${differences.join('; ')})` : ''}`);
    }
    state = TrainingSession.freshState(initial?.parameters ?? initParameters(model, { seed: tc.seed }), artifacts.manifest, tc.lossScaleInit);
  }
  const metrics = new MetricsLog(metricsFile, state.step > 0 ? state.step : -1);
  const session = await TrainingSession.create(artifacts.dir, artifacts.manifest, state, { device: tc.device, ...(tc.threads > 0 ? { threads: tc.threads } : {}) });

  let stopRequested = false;
  const requestStop = (why: string) => {
    if (!stopRequested) log(`${why}: stopping after the current steps and saving a checkpoint`);
    stopRequested = true;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopRequested) {
      // A second Ctrl-C means "now": the last checkpoint on disk is intact (saves are atomic).
      log(`received ${signal} again: exiting without a new checkpoint`);
      process.exit(130);
    }
    requestStop(`received ${signal}`);
  };
  if (hooks.handleSignals) { process.on('SIGINT', onSignal); process.on('SIGTERM', onSignal); }
  const onAbort = () => requestStop('aborted');
  if (hooks.signal?.aborted) onAbort();
  hooks.signal?.addEventListener('abort', onAbort, { once: true });

  hooks.onStart?.({ step: session.state.step, steps: tc.steps, parameterCount: parameterCount(specs), tokensPerStep: B * T });
  const started = performance.now();
  const wallTime = () => wallOffset + (performance.now() - started) / 1000;
  const save = () => {
    const metadata: CheckpointMetadata = {
      step: session.state.step,
      tokensSeen: session.state.step * B * T,
      modelConfig: { ...model },
      trainConfig: { ...tc },
      ...(identity.tokenizer ? { tokenizerHash: identity.tokenizer } : {}),
      data: { trainData: identity.trainData, ...(identity.validationData ? { validationData: identity.validationData } : {}) },
      randomState: Random.seeded(tc.seed, session.state.step).state(),
      dataPosition: session.state.step * B,
      ...(bestValidationLoss !== undefined ? { bestValidationLoss } : {}),
      wallTimeSeconds: wallTime(),
      ...(session.state.lossScale ? { lossScale: { ...session.state.lossScale } } : {}),
    };
    const { parameters, m, v } = session.state;
    const file = saveCheckpoint(tc.runDir, { parameters: toTensors(parameters, shapes), m: toTensors(m, shapes), v: toTensors(v, shapes), metadata });
    log(`checkpoint: step ${session.state.step} → ${file}`);
    hooks.onCheckpoint?.(file, session.state.step);
    return file;
  };
  const validate = async (): Promise<number> => {
    let total = 0;
    let count = 0;
    for (const windows of sequentialWindows(validTokens!, B, T, tc.evalBatches)) {
      total += await session.evaluate(windows);
      count++;
    }
    return total / count;
  };

  let lastTrainLoss: number | undefined;
  let lastValLoss: number | undefined;
  try {
    // Step 0: the untrained model's validation loss, so every curve starts there. Only a run at step 0
    // does this (a resumed run keeps its step-0 record), so resume still replays the same records.
    if (session.state.step === 0 && validTokens && !stopRequested) {
      const record: MetricsRecord = { step: 0, tokensSeen: 0, valLoss: await validate(), wallTime: 0 };
      metrics.append(record);
      hooks.onStep?.(record);
      lastValLoss = bestValidationLoss = record.valLoss;
      log(`step 0: validation loss ${record.valLoss!.toFixed(4)}`);
    }
    while (session.state.step < tc.steps && !stopRequested) {
      const first = session.state.step;
      const end = Math.min(first + tc.stepsPerRun, tc.steps, nextMultiple(first, tc.evalEvery), nextMultiple(first, tc.checkpointEvery));
      const K = end - first;
      const tokens = new BigInt64Array(K * B * (T + 1));
      const lrs = new Float32Array(K);
      for (let k = 0; k < K; k++) {
        sampleWindows(trainTokens, B, T + 1, Random.seeded(tc.seed, first + k), tokens, k * B * (T + 1));
        lrs[k] = learningRate(first + k);
      }
      const chunkStart = performance.now();
      const wallAtStart = wallTime();
      const { losses, gradNorms, lossScales, skipped } = await session.runSteps(tokens, lrs);
      const chunkSeconds = (performance.now() - chunkStart) / 1000;
      const tokensPerSecond = (K * B * T) / chunkSeconds;
      for (let k = 0; k < K; k++) {
        const step = first + k + 1;
        const skippedStep = skipped?.[k] === true;
        // A skipped fp16 step (its gradients overflowed) is loss scaling at work, unless the loss itself
        // is not finite (the float16 forward overflowed: no loss scale fixes that) or S has fallen below 1.
        const divergedScale = lossScales && lossScales[k]! < 1;
        if (!Number.isFinite(losses[k]!) || (!skippedStep && !Number.isFinite(gradNorms[k]!)) || divergedScale) {
          const kept = fs.existsSync(checkpointFile) ? `the last good checkpoint (step ${loadStep(checkpointFile)}) is kept at ${checkpointFile}` : 'no checkpoint was written';
          const scaleNote = divergedScale ? `, loss scale ${lossScales[k]} (the gradients overflow float16 even unscaled)` : '';
          throw new NonFiniteLossError(`loss is ${losses[k]} (grad norm ${gradNorms[k]}${scaleNote}) at step ${step} with learning rate ${lrs[k]!.toPrecision(3)}; training stopped and ${kept}. Lower maxLearningRate or gradClip, then resume.`, step);
        }
        const record: MetricsRecord = {
          step, tokensSeen: step * B * T, trainLoss: losses[k]!, lr: lrs[k]!, ...(skippedStep ? {} : { gradNorm: gradNorms[k]! }),
          ...(lossScales ? { lossScale: lossScales[k]!, skipped: skippedStep } : {}), tokensPerSecond, wallTime: wallAtStart + (chunkSeconds * (k + 1)) / K,
        };
        if (skippedStep) log(`step ${step}: skipped (float16 gradients overflowed at loss scale ${lossScales![k]}); loss scale now ${lossScales![k]! * LOSS_SCALE_BACKOFF}`);
        if (k === K - 1 && validTokens && ((tc.evalEvery > 0 && step % tc.evalEvery === 0) || step === tc.steps)) {
          record.valLoss = await validate();
          lastValLoss = record.valLoss;
          if (bestValidationLoss === undefined || record.valLoss < bestValidationLoss) bestValidationLoss = record.valLoss;
        }
        metrics.append(record);
        hooks.onStep?.(record);
        lastTrainLoss = losses[k]!;
        if (record.valLoss !== undefined) {
          log(`step ${step}: train loss ${lastTrainLoss.toFixed(4)}, validation loss ${record.valLoss.toFixed(4)}`);
          writeLossCurve(tc.runDir, metrics.records);
        }
      }
      const scaling = session.state.lossScale;
      const skippedSteps = skipped?.filter(Boolean).length ?? 0;
      hooks.onProgress?.({ step: end, steps: tc.steps, tokensSeen: end * B * T, loss: lastTrainLoss!, lr: lrs[K - 1]!, tokensPerSecond, ...(scaling ? { lossScale: scaling.scale, skippedSteps } : {}) });
      if (end % tc.checkpointEvery === 0 && end < tc.steps && !stopRequested) save();
    }
    const file = save();
    if (!validTokens || lastTrainLoss !== undefined) writeLossCurve(tc.runDir, metrics.records);
    return { step: session.state.step, interrupted: session.state.step < tc.steps, finalTrainLoss: lastTrainLoss, finalValLoss: lastValLoss, checkpoint: file, metricsFile, runDir: tc.runDir };
  } finally {
    if (hooks.handleSignals) { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); }
    hooks.signal?.removeEventListener('abort', onAbort);
    await session.release();
  }
}

function loadStep(file: string): number | string {
  try {
    return loadCheckpoint(file).metadata.step;
  } catch {
    return '?';
  }
}
