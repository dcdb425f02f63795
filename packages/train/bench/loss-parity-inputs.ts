/**
 * The loss-parity run's inputs, written once by our side and read by both (loss-parity.ts and
 * loss-parity.py), so the two trainers see the same numbers:
 *
 *   weights.safetensors   the initial parameters under the course's names (float32)
 *   schedule.json         the model and optimizer settings, one learning rate per step (already rounded
 *                         to float32, what our graph is fed), the start offset of every training window
 *                         [steps][B], the validation windows [batches][B], and the token files' names
 *
 * A window at offset s is tokens[s .. s+T], inputs the first T, targets the last T (nanoGPT's get_batch).
 * The offsets come from our seeded Random, uniform over every start that leaves a full window; the
 * validation windows are our evaluate()'s: consecutive, stride T, from the start of the file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { resolveTransformerConfig, transformerParameters, type TransformerConfig } from '@cs336/nn';
import { cosineLearningRate, type CosineScheduleConfig } from '@cs336/optim';
import { Random, readSafetensors, writeSafetensors, type OptimizerSettings, type Tensor } from '@cs336/train';

export const PARITY_FORMAT = 'cs336-loss-parity/1';
export const WEIGHTS_FILE = 'weights.safetensors';
export const SCHEDULE_FILE = 'schedule.json';

/** The model fields both sides build (the pre-norm course block: no dropout, untied head). */
export type ParityModel = Pick<TransformerConfig, 'vocabSize' | 'contextLength' | 'dModel' | 'numLayers' | 'numHeads' | 'dFf' | 'rmsNormEps'>;

export interface ParitySchedule {
  format: typeof PARITY_FORMAT;
  model: ParityModel;
  optimizer: OptimizerSettings;
  /** B. */
  batchSize: number;
  /** T of every window (≤ model.contextLength). */
  contextLength: number;
  steps: number;
  /** Validation loss at step 0, every evalEvery steps, and after the last step. */
  evalEvery: number;
  /** Token files (uint16, little-endian), relative to the schedule's folder or absolute. */
  trainTokens: string;
  validTokens: string;
  /** Token counts of those files, so a reader can tell it opened the right ones. */
  trainTokenCount: number;
  validTokenCount: number;
  /** learningRates[k] for step k (0-based), float32 values. */
  learningRates: number[];
  /** trainStarts[k][b]: window b of step k. */
  trainStarts: number[][];
  /** validStarts[i][b]: window b of validation batch i. */
  validStarts: number[][];
  /** Free-form notes (seeds, schedule) for the record. */
  notes: Record<string, string | number>;
}

export interface ScheduleOptions {
  model: ParityModel;
  optimizer: OptimizerSettings;
  batchSize: number;
  contextLength: number;
  steps: number;
  evalEvery: number;
  evalBatches: number;
  learningRate: CosineScheduleConfig;
  trainTokens: string;
  validTokens: string;
  trainTokenCount: number;
  validTokenCount: number;
  /** Seeds the window offsets. */
  seed: number;
}

/** Draws the schedule: per-step learning rates from the cosine schedule, window offsets from Random.seeded(seed). */
export function makeParitySchedule(options: ScheduleOptions): ParitySchedule {
  const { batchSize: B, contextLength: T, steps, evalEvery, evalBatches } = options;
  for (const [name, value] of Object.entries({ batchSize: B, contextLength: T, steps, evalEvery, evalBatches })) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`loss parity: ${name} must be a positive integer, got ${value}`);
  }
  if (T > options.model.contextLength) throw new Error(`loss parity: contextLength ${T} exceeds the model's ${options.model.contextLength}`);
  const trainStartCount = options.trainTokenCount - T;
  if (trainStartCount < 1) throw new Error(`loss parity: the training file holds ${options.trainTokenCount} tokens, too few for one window of ${T + 1}`);
  const validWindows = Math.floor((options.validTokenCount - 1) / T);
  if (validWindows < evalBatches * B) {
    throw new Error(`loss parity: the validation file gives ${validWindows} windows of ${T + 1}, fewer than evalBatches·B = ${evalBatches}·${B}; lower evalBatches or use a longer file`);
  }
  const random = Random.seeded(options.seed);
  const trainStarts = Array.from({ length: steps }, () => Array.from({ length: B }, () => random.nextInt(trainStartCount)));
  const validStarts = Array.from({ length: evalBatches }, (_, i) => Array.from({ length: B }, (_, b) => (i * B + b) * T));
  const learningRates = Array.from({ length: steps }, (_, k) => Math.fround(cosineLearningRate(k, options.learningRate)));
  const { maxLearningRate, minLearningRate, warmupIters, cosineCycleIters } = options.learningRate;
  return {
    format: PARITY_FORMAT,
    model: { ...options.model },
    optimizer: { ...options.optimizer },
    batchSize: B,
    contextLength: T,
    steps,
    evalEvery,
    trainTokens: options.trainTokens,
    validTokens: options.validTokens,
    trainTokenCount: options.trainTokenCount,
    validTokenCount: options.validTokenCount,
    learningRates,
    trainStarts,
    validStarts,
    notes: { seed: options.seed, learningRate: `cosine ${maxLearningRate} → ${minLearningRate}, warmup ${warmupIters}, cycle ${cosineCycleIters}` },
  };
}

/** The steps at which both sides measure validation loss: 0, evalEvery, 2·evalEvery, ..., and the last. */
export function evalSteps(schedule: Pick<ParitySchedule, 'steps' | 'evalEvery'>): number[] {
  const steps: number[] = [];
  for (let s = 0; s < schedule.steps; s += schedule.evalEvery) steps.push(s);
  steps.push(schedule.steps);
  return steps;
}

/** Writes weights.safetensors and schedule.json into `dir` (each to a temp name, then renamed). */
export function writeParityInputs(dir: string, schedule: ParitySchedule, weights: Readonly<Record<string, Float32Array>>): void {
  checkWeights(schedule.model, weights, 'writeParityInputs');
  fs.mkdirSync(dir, { recursive: true });
  const tensors: Record<string, Tensor> = {};
  for (const spec of transformerParameters(resolveTransformerConfig(schedule.model))) tensors[spec.name] = { dtype: 'float32', dims: spec.shape, data: weights[spec.name]! };
  writeSafetensors(path.join(dir, `${WEIGHTS_FILE}.tmp`), tensors, { format: PARITY_FORMAT });
  fs.renameSync(path.join(dir, `${WEIGHTS_FILE}.tmp`), path.join(dir, WEIGHTS_FILE));
  fs.writeFileSync(path.join(dir, `${SCHEDULE_FILE}.tmp`), JSON.stringify(schedule));
  fs.renameSync(path.join(dir, `${SCHEDULE_FILE}.tmp`), path.join(dir, SCHEDULE_FILE));
}

/** Reads what writeParityInputs wrote, checking the format and every weight's shape. */
export function readParityInputs(dir: string): { schedule: ParitySchedule; weights: Record<string, Float32Array> } {
  const schedule = JSON.parse(fs.readFileSync(path.join(dir, SCHEDULE_FILE), 'utf8')) as ParitySchedule;
  if (schedule.format !== PARITY_FORMAT) throw new Error(`${dir}/${SCHEDULE_FILE}: format ${JSON.stringify(schedule.format)}, expected ${PARITY_FORMAT}`);
  const { tensors } = readSafetensors(path.join(dir, WEIGHTS_FILE));
  const weights: Record<string, Float32Array> = {};
  for (const [name, tensor] of tensors) {
    if (tensor.dtype !== 'float32') throw new Error(`${dir}/${WEIGHTS_FILE}: "${name}" is ${tensor.dtype}, expected float32`);
    weights[name] = tensor.data as Float32Array;
  }
  checkWeights(schedule.model, weights, `${dir}/${WEIGHTS_FILE}`);
  return { schedule, weights };
}

/** Exactly the model's parameters, each with its element count: a missing or stray tensor is an error. */
function checkWeights(model: ParityModel, weights: Readonly<Record<string, Float32Array>>, what: string): void {
  const specs = transformerParameters(resolveTransformerConfig(model));
  const expected = new Set(specs.map((s) => s.name));
  const extra = Object.keys(weights).filter((name) => !expected.has(name));
  if (extra.length > 0) throw new Error(`${what}: tensors that are not parameters of the model: ${extra.join(', ')}`);
  for (const spec of specs) {
    const data = weights[spec.name];
    const count = spec.shape.reduce((a, b) => a * b, 1);
    if (!data) throw new Error(`${what}: missing parameter "${spec.name}"`);
    if (data.length !== count) throw new Error(`${what}: "${spec.name}" has ${data.length} values, the model needs [${spec.shape.join(', ')}] = ${count}`);
  }
}
