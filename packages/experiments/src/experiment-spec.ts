/**
 * An experiment spec: one JSON file per CS336 experiment. A base run config, named variants (override
 * sets such as `{"maxLearningRate": 3e-3}` or `{"model.norm": "none"}`), and scales that resize the
 * same experiment: `tiny` (CI, seconds), `cpu` (minutes on 2 cores) and `handout` (the handout's model
 * and token budget, for a GPU). A scale may add overrides for one variant (the batch-size sweep gives
 * each batch size its own step count so every variant sees the same tokens).
 *
 * Override keys are the ones `cs336 train` takes: a train field in camel case, or `model.<field>`.
 * Everything is checked by the same code `cs336 train` uses (applyOverrides, resolveTrainConfig,
 * resolveTransformerConfig), for every variant at the chosen scale, before anything trains.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveTransformerConfig, type TransformerConfig } from '@cs336/nn';
import { applyOverrides, resolveTrainConfig, type TrainConfig } from '@cs336/train';
import { DEFAULT_DIVERGENCE_RULE, type DivergenceRule } from './divergence.js';

/** JSON scalar values an override may set. */
export type OverrideValue = number | string | boolean;
export type Overrides = Record<string, OverrideValue>;

export const SCALES = ['tiny', 'cpu', 'handout'] as const;
export type ScaleName = (typeof SCALES)[number];

/** `lm` trains the Transformer LM; `sgd-toy` is the handout's SGD on one tensor (no data, no model). */
export type ExperimentKind = 'lm' | 'sgd-toy';

export interface SampleSettings {
  prompt: string;
  temperature: number;
  topP: number;
  maxNewTokens: number;
  seed: number;
}

export interface ScaleSpec {
  /** Applied on the base, before the variant's own overrides. */
  overrides: Overrides;
  /** Per-variant overrides at this scale, applied last. */
  variants: Record<string, Overrides>;
}

export interface ExperimentSpec {
  name: string;
  description: string;
  kind: ExperimentKind;
  /** The override key the variants sweep (for the final-loss-vs-value plot), if any. */
  sweep?: string;
  base: { model: Partial<TransformerConfig>; train: Partial<TrainConfig> };
  variants: Record<string, Overrides>;
  scales: Record<ScaleName, ScaleSpec>;
  divergence: DivergenceRule;
  sample: SampleSettings;
}

/** One variant at one scale, fully resolved (paths filled in by the runner). */
export interface ResolvedVariant {
  name: string;
  /** The variant's own overrides plus its scale-specific ones: what differs from the base. */
  differs: Overrides;
  /** The swept value, when the spec sweeps a key. */
  swept?: OverrideValue;
  model: TransformerConfig;
  train: TrainConfig;
}

export const DEFAULT_SAMPLE: Readonly<SampleSettings> = Object.freeze({ prompt: 'Once upon a time', temperature: 0.8, topP: 0.95, maxNewTokens: 256, seed: 0 });

/** Train fields the runner sets from its flags and folders; a spec may not set them. */
export const RUNNER_FIELDS = ['runDir', 'trainData', 'validationData', 'tokenizer', 'device', 'threads', 'model.vocabSize'] as const;

const SPEC_FIELDS = ['$schema', 'name', 'description', 'kind', 'sweep', 'base', 'variants', 'scales', 'divergence', 'sample'];
const NAME = /^[a-z0-9][a-z0-9._-]*$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(where: string, value: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new Error(`${where}: unknown field "${key}"; known: ${known.join(', ')}`);
  }
}

function readOverrides(where: string, value: unknown): Overrides {
  if (!isObject(value)) throw new Error(`${where} must be an object of overrides, e.g. {"maxLearningRate": 0.003}`);
  for (const [key, v] of Object.entries(value)) {
    if (!['number', 'string', 'boolean'].includes(typeof v)) throw new Error(`${where}: override "${key}" must be a number, string or boolean, got ${JSON.stringify(v)}`);
    if ((RUNNER_FIELDS as readonly string[]).includes(key)) throw new Error(`${where}: "${key}" is set by the runner (from --data, --out, --device, --jobs), not by a spec`);
  }
  return value as Overrides;
}

/** Parses and checks a spec's shape (not yet its values: resolveVariants does that per scale). */
export function parseExperimentSpec(json: unknown, where = 'experiment spec'): ExperimentSpec {
  if (!isObject(json)) throw new Error(`${where}: must be a JSON object`);
  checkKeys(where, json, SPEC_FIELDS);
  const { name, description = '', kind = 'lm', sweep, base = {}, variants, scales, divergence = {}, sample = {} } = json;
  if (typeof name !== 'string' || !NAME.test(name)) throw new Error(`${where}: "name" must be a lower-case name (letters, digits, . _ -), got ${JSON.stringify(name)}`);
  if (typeof description !== 'string') throw new Error(`${where}: "description" must be a string`);
  if (kind !== 'lm' && kind !== 'sgd-toy') throw new Error(`${where}: "kind" must be "lm" or "sgd-toy", got ${JSON.stringify(kind)}`);
  if (sweep !== undefined && typeof sweep !== 'string') throw new Error(`${where}: "sweep" must name an override key`);
  if (!isObject(base)) throw new Error(`${where}: "base" must be an object { "model": {...}, ...train fields }`);
  const { model = {}, ...train } = base;
  if (!isObject(model)) throw new Error(`${where}: "base.model" must be an object of model fields`);
  for (const key of Object.keys(train)) {
    if ((RUNNER_FIELDS as readonly string[]).includes(key)) throw new Error(`${where}: base field "${key}" is set by the runner, not by a spec`);
  }
  if ('vocabSize' in model) throw new Error(`${where}: base.model.vocabSize comes from the data's token files, not from the spec`);
  if (!isObject(variants) || Object.keys(variants).length === 0) throw new Error(`${where}: "variants" must be an object with at least one named override set`);
  const parsedVariants: Record<string, Overrides> = {};
  for (const [variant, overrides] of Object.entries(variants)) {
    if (!NAME.test(variant)) throw new Error(`${where}: variant name ${JSON.stringify(variant)} must be lower-case letters, digits, . _ - (it names a folder)`);
    parsedVariants[variant] = readOverrides(`${where}: variant "${variant}"`, overrides);
    if (sweep !== undefined && !(sweep in parsedVariants[variant]!)) throw new Error(`${where}: variant "${variant}" does not set the swept key "${sweep}"`);
  }
  if (!isObject(scales)) throw new Error(`${where}: "scales" must be an object with ${SCALES.join(', ')}`);
  checkKeys(`${where}: scales`, scales, SCALES);
  const parsedScales = {} as Record<ScaleName, ScaleSpec>;
  for (const scale of SCALES) {
    const entry = scales[scale];
    if (!isObject(entry)) throw new Error(`${where}: scales.${scale} is missing (every spec has tiny, cpu and handout)`);
    checkKeys(`${where}: scales.${scale}`, entry, ['overrides', 'variants', 'note']);
    const perVariant = entry.variants ?? {};
    if (!isObject(perVariant)) throw new Error(`${where}: scales.${scale}.variants must be an object keyed by variant name`);
    const scaleVariants: Record<string, Overrides> = {};
    for (const [variant, overrides] of Object.entries(perVariant)) {
      if (!(variant in parsedVariants)) throw new Error(`${where}: scales.${scale}.variants names "${variant}", which is not a variant; variants: ${Object.keys(parsedVariants).join(', ')}`);
      scaleVariants[variant] = readOverrides(`${where}: scales.${scale}.variants.${variant}`, overrides);
    }
    parsedScales[scale] = { overrides: readOverrides(`${where}: scales.${scale}.overrides`, entry.overrides ?? {}), variants: scaleVariants };
  }
  if (!isObject(divergence)) throw new Error(`${where}: "divergence" must be an object`);
  checkKeys(`${where}: divergence`, divergence, Object.keys(DEFAULT_DIVERGENCE_RULE));
  const rule = { ...DEFAULT_DIVERGENCE_RULE, ...divergence } as DivergenceRule;
  for (const [key, value] of Object.entries(rule)) {
    if (typeof value !== 'number' || !(value >= 0)) throw new Error(`${where}: divergence.${key} must be a non-negative number, got ${JSON.stringify(value)}`);
  }
  if (!isObject(sample)) throw new Error(`${where}: "sample" must be an object`);
  checkKeys(`${where}: sample`, sample, Object.keys(DEFAULT_SAMPLE));
  const sampling = { ...DEFAULT_SAMPLE, ...sample } as SampleSettings;
  if (typeof sampling.prompt !== 'string') throw new Error(`${where}: sample.prompt must be a string`);
  if (!Number.isSafeInteger(sampling.maxNewTokens) || sampling.maxNewTokens < 0) throw new Error(`${where}: sample.maxNewTokens must be a non-negative integer`);
  if (!(sampling.temperature >= 0)) throw new Error(`${where}: sample.temperature must be ≥ 0`);
  if (!(sampling.topP > 0 && sampling.topP <= 1)) throw new Error(`${where}: sample.topP must be in (0, 1]`);
  return {
    name, description, kind, ...(sweep !== undefined ? { sweep } : {}),
    base: { model: model as Partial<TransformerConfig>, train: train as Partial<TrainConfig> },
    variants: parsedVariants, scales: parsedScales, divergence: rule, sample: sampling,
  };
}

/** The folder of the specs that ship with this package (works from src/ and from dist/). */
export function specsDir(): string {
  return path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'specs');
}

/** Names of the shipped specs. */
export function listExperimentSpecs(): string[] {
  return fs.readdirSync(specsDir()).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)).sort();
}

/** Loads a spec from a file path, or by name from the shipped specs. */
export function loadExperimentSpec(specOrName: string): { spec: ExperimentSpec; file: string } {
  const shipped = path.join(specsDir(), `${specOrName}.json`);
  const file = fs.existsSync(specOrName) && fs.statSync(specOrName).isFile() ? specOrName : NAME.test(specOrName) && fs.existsSync(shipped) ? shipped : undefined;
  if (!file) throw new Error(`no experiment spec "${specOrName}": not a file, and not one of the shipped specs (${listExperimentSpecs().join(', ')})`);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read experiment spec ${file}: ${(error as Error).message}`);
  }
  return { spec: parseExperimentSpec(json, file), file };
}

/** What the runner fills in: folders, device and threads. */
export interface RunnerSettings {
  /** The experiment's folder; variant v runs in `<experimentDir>/<v>`. */
  experimentDir: string;
  trainData: string;
  validationData: string;
  tokenizer: string;
  vocabSize: number;
  device: 'cpu' | 'cuda';
  threads: number;
}

/** Placeholder settings for checking a spec without data (the shipped-spec tests, `--dry-run`). */
export const PLACEHOLDER_SETTINGS: Readonly<RunnerSettings> = Object.freeze({
  experimentDir: 'runs/experiment', trainData: 'train.bin', validationData: 'valid.bin', tokenizer: '', vocabSize: 10_000, device: 'cpu', threads: 0,
});

/**
 * Every variant of `spec` at `scale`: base, then the scale's overrides, then the variant's, then its
 * scale-specific ones, each checked by applyOverrides and the config resolvers. Throws naming the
 * variant and the problem; nothing has run yet when it does.
 */
export function resolveVariants(spec: ExperimentSpec, scale: ScaleName, settings: RunnerSettings = PLACEHOLDER_SETTINGS): ResolvedVariant[] {
  if (!SCALES.includes(scale)) throw new Error(`unknown scale "${scale}"; scales: ${SCALES.join(', ')}`);
  const scaleSpec = spec.scales[scale];
  return Object.entries(spec.variants).map(([name, own]) => {
    const differs: Overrides = { ...own, ...(scaleSpec.variants[name] ?? {}) };
    const where = `experiment "${spec.name}", scale ${scale}, variant "${name}"`;
    try {
      const text = (o: Overrides) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));
      let train: Partial<TrainConfig> = { ...spec.base.train };
      let model: Record<string, unknown> = { ...spec.base.model };
      for (const overrides of [scaleSpec.overrides, differs]) ({ train, model } = applyOverrides(train, model, text(overrides)));
      const resolvedModel = resolveTransformerConfig({ ...(model as Partial<TransformerConfig>), vocabSize: settings.vocabSize });
      const resolvedTrain = resolveTrainConfig({
        ...train,
        runDir: path.join(settings.experimentDir, name),
        trainData: settings.trainData,
        validationData: settings.validationData,
        tokenizer: settings.tokenizer,
        device: settings.device,
        threads: settings.threads,
      });
      const T = resolvedTrain.contextLength || resolvedModel.contextLength;
      if (T > resolvedModel.contextLength) throw new Error(`contextLength ${T} is longer than model.contextLength ${resolvedModel.contextLength}`);
      const swept = spec.sweep !== undefined ? differs[spec.sweep] : undefined;
      return { name, differs, ...(swept !== undefined ? { swept } : {}), model: { ...resolvedModel }, train: { ...resolvedTrain } };
    } catch (error) {
      throw new Error(`${where}: ${(error as Error).message}`);
    }
  });
}
