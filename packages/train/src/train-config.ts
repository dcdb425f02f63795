/**
 * Everything a training run needs besides the model shape: data, batch and step counts, the
 * optimizer and learning-rate schedule, evaluation and checkpoint cadence, and the runtime.
 *
 * Precedence, as in nanoGPT: DEFAULT_TRAIN_CONFIG, then a JSON config file, then command-line
 * overrides (each one printed). The resolved config is logged and stored in every checkpoint.
 */
import fs from 'node:fs';
import { checkConfigFields, didYouMean, fieldTypesOf, type ConfigFieldType } from '@cs336/graph';
import { DEFAULT_TRANSFORMER_CONFIG, TRANSFORMER_CONFIG_FIELDS } from '@cs336/nn';
import { DEFAULT_LOSS_SCALE, DEFAULT_LOSS_SCALE_WINDOW } from './loss-scale.js';

export interface TrainConfig {
  /** Directory for checkpoints, metrics.jsonl, loss curves and the ONNX artifacts. */
  runDir: string;
  /** Token file (uint16/uint32 .bin) to train on. */
  trainData: string;
  /** Token file for validation loss; empty = no validation. */
  validationData: string;
  /** dtype of both token files when they have no sidecar; '' = take it from the sidecar (required then). */
  dataDtype: '' | 'uint16' | 'uint32';
  /** Tokenizer directory (vocab.json + merges.txt), recorded for generation; optional. */
  tokenizer: string;
  /**
   * Start from these weights instead of a seeded init: a checkpoint.safetensors or a PyTorch state dict
   * (safetensors, the course's names). The optimizer starts fresh. Ignored when resuming; '' = none.
   */
  initFrom: string;
  /** Seeds parameter init and batch sampling (the batch for step s depends only on (seed, s)). */
  seed: number;
  /** T, tokens per training sequence; 0 = the model's contextLength (it may not exceed it). */
  contextLength: number;
  /** B, sequences per step. */
  batchSize: number;
  /** Total optimizer steps. */
  steps: number;
  /** K, optimizer steps fused into one ONNX Runtime call (parameters stay inside the runtime for K steps). */
  stepsPerRun: number;
  /** αmax of the cosine schedule. */
  maxLearningRate: number;
  /** αmin, the floor after the cosine. */
  minLearningRate: number;
  /** Tw, linear warmup steps. */
  warmupSteps: number;
  /** Tc, the step where the cosine reaches αmin; 0 = `steps`. */
  cosineCycleSteps: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Global L2 norm clip on gradients; 0 disables clipping. */
  gradClip: number;
  /** Validate every this many steps (rounded up to a multiple of K) and at the end; 0 = only at the end. */
  evalEvery: number;
  /** Validation batches per evaluation (sequential over the validation file). */
  evalBatches: number;
  /** Checkpoint every this many steps (rounded up to a multiple of K) and at the end. */
  checkpointEvery: number;
  device: 'cpu' | 'cuda';
  /**
   * 'fp32' (default), or 'fp16': float16 matmuls and activations with float32 master weights, AdamW
   * moments and loss, and dynamic loss scaling (see loss-scale.ts). Evaluation and generation stay float32.
   */
  precision: 'fp32' | 'fp16';
  /** fp16: the initial loss scale S (torch GradScaler's 2^16). */
  lossScaleInit: number;
  /** fp16: clean steps in a row after which S doubles (GradScaler's growth_interval, 2000). */
  lossScaleWindow: number;
  /** ONNX Runtime intra-op threads; 0 = the runtime's default. At a fixed count, runs repeat bit for bit. */
  threads: number;
}

export const DEFAULT_TRAIN_CONFIG: Readonly<TrainConfig> = Object.freeze({
  runDir: 'runs/default',
  trainData: '',
  validationData: '',
  dataDtype: '',
  tokenizer: '',
  initFrom: '',
  seed: 0,
  contextLength: 0,
  batchSize: 16,
  steps: 1000,
  stepsPerRun: 8,
  maxLearningRate: 1e-3,
  minLearningRate: 1e-4,
  warmupSteps: 100,
  cosineCycleSteps: 0,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0.1,
  gradClip: 1.0,
  evalEvery: 100,
  evalBatches: 8,
  checkpointEvery: 500,
  device: 'cpu',
  precision: 'fp32',
  lossScaleInit: DEFAULT_LOSS_SCALE,
  lossScaleWindow: DEFAULT_LOSS_SCALE_WINDOW,
  threads: 0,
});

const INTEGER_FIELDS = ['seed', 'contextLength', 'batchSize', 'steps', 'stepsPerRun', 'warmupSteps', 'cosineCycleSteps', 'evalEvery', 'evalBatches', 'checkpointEvery', 'threads', 'lossScaleWindow'] as const;
const POSITIVE_FIELDS = ['batchSize', 'steps', 'stepsPerRun', 'evalBatches', 'checkpointEvery', 'lossScaleWindow'] as const;
const NUMBER_FIELDS = ['maxLearningRate', 'minLearningRate', 'eps', 'weightDecay', 'gradClip'] as const;

/** Each field's type, for checking configs read from JSON (checkConfigFields). */
export const TRAIN_CONFIG_FIELDS: Readonly<Record<keyof TrainConfig, ConfigFieldType>> = Object.freeze({ ...fieldTypesOf(DEFAULT_TRAIN_CONFIG), device: ['cpu', 'cuda'], precision: ['fp32', 'fp16'], dataDtype: ['', 'uint16', 'uint32'] });

/** Fills defaults, validates every field (errors name the field, the value and the fix), freezes. */
export function resolveTrainConfig(partial: Partial<TrainConfig> = {}): Readonly<TrainConfig> {
  checkConfigFields('TrainConfig', partial, TRAIN_CONFIG_FIELDS);
  const c: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) };
  for (const key of INTEGER_FIELDS) {
    if (!Number.isSafeInteger(c[key]) || c[key] < 0) throw new Error(`TrainConfig: ${key} must be a non-negative integer, got ${c[key]}`);
  }
  for (const key of POSITIVE_FIELDS) {
    if (c[key] < 1) throw new Error(`TrainConfig: ${key} must be at least 1, got ${c[key]}`);
  }
  for (const key of NUMBER_FIELDS) {
    if (!Number.isFinite(c[key]) || c[key] < 0) throw new Error(`TrainConfig: ${key} must be a non-negative finite number, got ${c[key]}`);
  }
  for (const key of ['beta1', 'beta2'] as const) {
    if (!(c[key] >= 0 && c[key] < 1)) throw new Error(`TrainConfig: ${key} must be in [0, 1), got ${c[key]}`);
  }
  if (c.eps <= 0) throw new Error(`TrainConfig: eps must be positive, got ${c.eps}`);
  if (c.minLearningRate > c.maxLearningRate) throw new Error(`TrainConfig: minLearningRate ${c.minLearningRate} exceeds maxLearningRate ${c.maxLearningRate}`);
  if (c.cosineCycleSteps === 0) c.cosineCycleSteps = c.steps;
  if (c.cosineCycleSteps < c.warmupSteps) throw new Error(`TrainConfig: cosineCycleSteps (${c.cosineCycleSteps}) must be ≥ warmupSteps (${c.warmupSteps}); lower warmupSteps (--warmup N) or raise steps`);
  if (c.device !== 'cpu' && c.device !== 'cuda') throw new Error(`TrainConfig: device must be "cpu" or "cuda", got ${JSON.stringify(c.device)}`);
  if (c.precision !== 'fp32' && c.precision !== 'fp16') throw new Error(`TrainConfig: precision must be "fp32" or "fp16", got ${JSON.stringify(c.precision)}`);
  // A power of two keeps scaling exact: multiplying a float16 gradient by 2^k only moves its exponent.
  if (!(Number.isFinite(c.lossScaleInit) && c.lossScaleInit >= 1 && c.lossScaleInit <= 2 ** 64 && Number.isInteger(Math.log2(c.lossScaleInit)))) {
    throw new Error(`TrainConfig: lossScaleInit must be a power of two from 1 to 2^64 (e.g. 65536 = 2^16), got ${c.lossScaleInit}`);
  }
  if (!c.trainData) throw new Error('TrainConfig: trainData is empty; give the token file to train on (e.g. --train-data data/train.bin)');
  if (!c.runDir) throw new Error('TrainConfig: runDir is empty; give a directory for checkpoints and metrics (e.g. --run-dir runs/tiny)');
  return Object.freeze(c);
}

/** Short flags for the common fields (`--lr 1e-3`, `--steps 200`, `--k 8`). */
export const TRAIN_OVERRIDE_ALIASES: Readonly<Record<string, keyof TrainConfig>> = Object.freeze({
  lr: 'maxLearningRate',
  'min-lr': 'minLearningRate',
  warmup: 'warmupSteps',
  k: 'stepsPerRun',
  context: 'contextLength',
  'batch-size': 'batchSize',
  clip: 'gradClip',
  dtype: 'dataDtype',
});

function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Parses one override value against the type of the field's default. */
function parseValue(field: string, text: string, like: unknown): unknown {
  if (typeof like === 'number') {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value)) throw new Error(`--${field} needs a number, got "${text}"`);
    return value;
  }
  if (typeof like === 'boolean') {
    if (text !== 'true' && text !== 'false') throw new Error(`--${field} needs true or false, got "${text}"`);
    return text === 'true';
  }
  return text;
}

export interface ConfigOverride {
  field: string;
  from: unknown;
  to: unknown;
}

/**
 * Applies `--flag value` overrides to a train config and a model config. A flag names a train field
 * (kebab or camel case, or an alias) or a model field as `model.<field>` / `--model-<kebab-field>`.
 * Returns the new objects and the list of changes (for printing "override lr: 0.001 → 0.003").
 */
export function applyOverrides(
  train: Partial<TrainConfig>,
  model: Record<string, unknown>,
  overrides: Readonly<Record<string, string>>,
  modelDefaults: Readonly<Record<string, unknown>> = DEFAULT_TRANSFORMER_CONFIG,
): { train: Partial<TrainConfig>; model: Record<string, unknown>; changes: ConfigOverride[] } {
  const nextTrain: Record<string, unknown> = { ...train };
  const nextModel: Record<string, unknown> = { ...model };
  const changes: ConfigOverride[] = [];
  for (const [flag, text] of Object.entries(overrides)) {
    let modelField: string | undefined;
    if (flag.startsWith('model.')) modelField = flag.slice('model.'.length);
    else if (flag.startsWith('model-')) modelField = camelCase(flag.slice('model-'.length));
    if (modelField !== undefined) {
      if (!(modelField in modelDefaults)) {
        throw new Error(`unknown model field "${modelField}" in --${flag}${didYouMean(modelField, Object.keys(modelDefaults))} (model fields: ${Object.keys(modelDefaults).join(', ')})`);
      }
      const to = parseValue(flag, text, modelDefaults[modelField]);
      changes.push({ field: `model.${modelField}`, from: nextModel[modelField] ?? modelDefaults[modelField], to });
      nextModel[modelField] = to;
      continue;
    }
    const field = TRAIN_OVERRIDE_ALIASES[flag] ?? camelCase(flag);
    if (!(field in DEFAULT_TRAIN_CONFIG)) {
      const aliasOrField = [...Object.keys(TRAIN_OVERRIDE_ALIASES), ...Object.keys(DEFAULT_TRAIN_CONFIG)];
      throw new Error(`unknown option --${flag}${didYouMean(flag, aliasOrField).replace('"', '"--')}; train fields: ${Object.keys(DEFAULT_TRAIN_CONFIG).join(', ')}; model fields as --model.<field>`);
    }
    const to = parseValue(flag, text, DEFAULT_TRAIN_CONFIG[field as keyof TrainConfig]);
    changes.push({ field, from: nextTrain[field] ?? DEFAULT_TRAIN_CONFIG[field as keyof TrainConfig], to });
    nextTrain[field] = to;
  }
  return { train: nextTrain as Partial<TrainConfig>, model: nextModel, changes };
}

/** A run config file: `{ "model": {...}, ...train fields }`. */
export interface RunConfigFile {
  model: Record<string, unknown>;
  train: Partial<TrainConfig>;
}

export function readRunConfigFile(file: string): RunConfigFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read config ${file}: ${(error as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${file}: the config must be a JSON object`);
  const { model = {}, ...train } = parsed as Record<string, unknown>;
  if (typeof model !== 'object' || model === null || Array.isArray(model)) throw new Error(`${file}: "model" must be an object of model config fields`);
  // Checked here, not only when resolved, so the message names the file and the section.
  checkConfigFields(`${file}: "model"`, model, TRANSFORMER_CONFIG_FIELDS);
  checkConfigFields(file, train, { model: 'string', ...TRAIN_CONFIG_FIELDS }); // "model" listed so a misspelt "modle" finds it
  return { model: model as Record<string, unknown>, train: train as Partial<TrainConfig> };
}
