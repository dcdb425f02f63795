/**
 * Runs an experiment: every variant into `<out>/<experiment>/<variant>/`, each in a child process
 * (up to `jobs` at once, the CPU threads split between them). A variant with a finished status.json
 * (done or diverged) and the same config is skipped; any other is resumed from its checkpoint, so a
 * killed sweep picks up where it stopped and replays the same per-step losses. A variant that fails
 * is recorded and the others go on.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireDirectoryLock } from '@cs336/data';
import { CHECKPOINT_FILE, canonicalJson, sidecarPath } from '@cs336/train';
import { resolveVariants, type ExperimentSpec, type ResolvedVariant, type RunnerSettings, type ScaleName } from './experiment-spec.js';
import { writeJsonAtomic } from './json-file.js';
import { STATUS_FILE, VARIANT_CONFIG_FILE, readStatus, type VariantConfig, type VariantStatus, type WorkerMessage } from './variant-worker.js';

export const EXPERIMENT_FILE = 'experiment.json';
export const VARIANT_LOG_FILE = 'train.log';

/** What `experiment.json` records, for the report. */
export interface ExperimentRecord {
  name: string;
  description: string;
  kind: ExperimentSpec['kind'];
  scale: ScaleName;
  sweep?: string;
  variants: string[];
  divergence: ExperimentSpec['divergence'];
  sample: ExperimentSpec['sample'];
}

export interface WorkerCommand {
  /** The script a child runs with the variant's folder as its argument. */
  script: string;
  execArgv?: string[];
  env?: Record<string, string>;
}

export interface RunExperimentOptions {
  spec: ExperimentSpec;
  scale: ScaleName;
  /** A folder with train.bin and valid.bin (+ their .json sidecars) and, for samples, tokenizer/. */
  dataDir?: string;
  /** Experiments go to `<outDir>/<spec.name>/`. */
  outDir: string;
  device?: 'cpu' | 'cuda';
  /** Variants run at once (child processes); default 1. */
  jobs?: number;
  /** ONNX Runtime threads per child; default: the cores divided by jobs. */
  threads?: number;
  worker?: WorkerCommand;
  /**
   * Copy a variant from a finished run elsewhere under outDir with the same config (default true).
   * The ablations all compare against the same baseline: trained once, its run is reused.
   */
  reuse?: boolean;
  onEvent?: (event: RunnerEvent) => void;
}

export interface PlannedVariant {
  name: string;
  steps: number;
  /** Steps already in its checkpoint (resumed from there). */
  startStep: number;
  /** True when finished in an earlier run: it will not train. */
  skip: boolean;
  /** A finished run with the same config that will be copied instead of training (see `reuse`). */
  reuseFrom?: string;
}

export type RunnerEvent =
  | { type: 'plan'; experimentDir: string; variants: PlannedVariant[] }
  | { type: 'variant-start'; name: string; index: number; count: number; pid: number }
  | { type: 'progress'; name: string; index: number; count: number; step: number; steps: number; loss: number; tokensPerSecond: number }
  | { type: 'checkpoint'; name: string; step: number; pid: number }
  | { type: 'variant-end'; name: string; index: number; count: number; status: VariantStatus };

export interface ExperimentResult {
  experimentDir: string;
  variants: Array<{ name: string; status: VariantStatus; skipped: boolean }>;
}

/** The worker this package ships, next to this file (from source through tsx when this file is TypeScript). */
export function defaultWorker(): WorkerCommand {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return { script: path.join(path.dirname(here), 'variant-worker-main.ts'), execArgv: ['--import', 'tsx'] };
  return { script: path.join(path.dirname(here), 'variant-worker-main.js') };
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Paths and vocabulary size from a data folder; errors say what is missing and how to make it. */
export function dataSettings(dataDir: string | undefined, kind: ExperimentSpec['kind']): Pick<RunnerSettings, 'trainData' | 'validationData' | 'tokenizer' | 'vocabSize'> {
  if (kind === 'sgd-toy') return { trainData: '(none: the SGD toy has no data)', validationData: '', tokenizer: '', vocabSize: 2 };
  if (!dataDir) throw new Error('this experiment trains an LM: give --data DIR, a folder with train.bin and valid.bin from `cs336 tokenize` (and tokenizer/ for samples)');
  const trainData = path.resolve(dataDir, 'train.bin');
  const validationData = path.resolve(dataDir, 'valid.bin');
  for (const file of [trainData, validationData]) {
    if (!fs.existsSync(file)) throw new Error(`--data ${dataDir}: ${path.basename(file)} is missing (make it with cs336 tokenize --out ${file})`);
  }
  const where = sidecarPath(trainData);
  const sidecar = where ? readJson<{ vocabSize?: number }>(where) : undefined;
  if (!sidecar?.vocabSize) throw new Error(`--data ${dataDir}: ${where ?? `${trainData}.json`} (the token file's sidecar, written by cs336 tokenize) is missing or has no vocabSize`);
  const tokenizerDir = path.resolve(dataDir, 'tokenizer');
  const tokenizer = fs.existsSync(path.join(tokenizerDir, 'vocab.json')) ? tokenizerDir : '';
  return { trainData, validationData, tokenizer, vocabSize: sidecar.vocabSize };
}

function variantConfig(spec: ExperimentSpec, variant: ResolvedVariant): VariantConfig {
  return { experiment: spec.name, variant: variant.name, kind: spec.kind, differs: variant.differs, model: variant.model, train: variant.train, divergence: spec.divergence };
}

/**
 * What differs between the config a variant ran with and the one asked for now. Threads and device
 * are how it runs, not what it is: a finished variant stays finished, an interrupted one resumes
 * (bit-exact only at the same thread count, as train() notes in its log).
 */
function changedFields(before: VariantConfig, now: VariantConfig): string[] {
  const flat = (c: VariantConfig): Record<string, unknown> => {
    const { threads: _threads, device: _device, ...train } = c.train;
    return { kind: c.kind, divergence: c.divergence, ...train, ...Object.fromEntries(Object.entries(c.model).map(([k, v]) => [`model.${k}`, v])) };
  };
  const [a, b] = [flat(before), flat(now)];
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => canonicalJson(a[k]) !== canonicalJson(b[k]));
}

/** Checks everything and plans the run (which variants are finished); trains nothing. */
export function planExperiment(options: RunExperimentOptions): { experimentDir: string; variants: ResolvedVariant[]; plan: PlannedVariant[]; configs: VariantConfig[] } {
  const { spec, scale } = options;
  const jobs = options.jobs ?? 1;
  if (!Number.isSafeInteger(jobs) || jobs < 1) throw new Error(`jobs must be a positive integer, got ${jobs}`);
  const experimentDir = path.resolve(options.outDir, spec.name);
  const threads = options.threads ?? Math.max(1, Math.floor(os.availableParallelism() / jobs));
  const variants = resolveVariants(spec, scale, { experimentDir, device: options.device ?? 'cpu', threads, ...dataSettings(options.dataDir, spec.kind) });
  const configs = variants.map((v) => variantConfig(spec, v));
  const plan = variants.map((variant, i): PlannedVariant => {
    const dir = variant.train.runDir;
    const before = readJson<VariantConfig>(path.join(dir, VARIANT_CONFIG_FILE));
    const status = readStatus(dir);
    const started = fs.existsSync(path.join(dir, CHECKPOINT_FILE)) || status !== undefined;
    const changed = before && started ? changedFields(before, configs[i]!) : [];
    if (changed.length > 0) {
      throw new Error(`variant "${variant.name}" in ${dir} was run with a different config (${changed.join(', ')} changed); delete that folder to rerun it, or pass another --out`);
    }
    const finished = status !== undefined && (status.state === 'done' || status.state === 'diverged');
    const reuseFrom = !finished && options.reuse !== false && !fs.existsSync(path.join(dir, CHECKPOINT_FILE)) ? findReusable(path.resolve(options.outDir), configs[i]!) : undefined;
    return { name: variant.name, steps: variant.train.steps, startStep: finished ? status.step : status?.step ?? 0, skip: finished, ...(reuseFrom ? { reuseFrom } : {}) };
  });
  return { experimentDir, variants, plan, configs };
}

/** Files of a finished variant that make up its result (not the ONNX artifacts: rebuilt when needed). */
const RESULT_FILES = ['metrics.jsonl', CHECKPOINT_FILE, 'train.log', 'loss-curve.svg', 'loss-curve.png'];

/**
 * A finished (done or diverged, not already a copy) variant under outDir, in another folder, whose
 * config equals `config` in everything but where and how it ran (folder, threads, device).
 */
export function findReusable(outDir: string, config: VariantConfig): string | undefined {
  if (!fs.existsSync(outDir)) return undefined;
  for (const experiment of fs.readdirSync(outDir).sort()) {
    const experimentDir = path.join(outDir, experiment);
    if (!fs.statSync(experimentDir).isDirectory()) continue;
    for (const variant of fs.readdirSync(experimentDir).sort()) {
      const dir = path.join(experimentDir, variant);
      if (path.resolve(dir) === path.resolve(config.train.runDir)) continue;
      const status = readStatus(dir);
      if (!status || (status.state !== 'done' && status.state !== 'diverged') || status.reusedFrom) continue;
      const other = readJson<VariantConfig>(path.join(dir, VARIANT_CONFIG_FILE));
      if (other && changedFields(other, config).filter((k) => k !== 'runDir').length === 0) return dir;
    }
  }
  return undefined;
}

function reuseVariant(from: string, config: VariantConfig, outDir: string): VariantStatus {
  const dir = config.train.runDir;
  for (const file of RESULT_FILES) if (fs.existsSync(path.join(from, file))) fs.copyFileSync(path.join(from, file), path.join(dir, file));
  const status: VariantStatus = { ...readStatus(from)!, reusedFrom: path.relative(outDir, from) };
  writeJsonAtomic(path.join(dir, STATUS_FILE), status);
  return status;
}

function tail(file: string, lines = 8): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function runChild(worker: WorkerCommand, dir: string, onMessage: (message: WorkerMessage) => void, onSpawn: (pid: number) => void): Promise<VariantStatus> {
  const logFile = path.join(dir, VARIANT_LOG_FILE);
  const log = fs.openSync(logFile, 'a');
  return new Promise((resolve) => {
    let status: VariantStatus | undefined;
    const child = fork(worker.script, [dir], { execArgv: worker.execArgv ?? [], env: { ...process.env, ...worker.env }, stdio: ['ignore', log, log, 'ipc'] });
    if (child.pid !== undefined) onSpawn(child.pid);
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'status') status = message.status;
      onMessage(message);
    });
    let finished = false;
    const finish = (why: string) => {
      if (finished) return; // 'error' and 'exit' can both fire
      finished = true;
      fs.closeSync(log);
      status ??= readStatus(dir);
      if (!status || status.state === 'failed') {
        status = { state: 'failed', step: status?.step ?? 0, steps: status?.steps ?? 0, error: `${why}${tail(logFile) ? `; last lines of ${logFile}:\n${tail(logFile)}` : ''}` };
        writeJsonAtomic(path.join(dir, STATUS_FILE), status);
      }
      resolve(status);
    };
    child.on('error', (error) => finish(`could not start the worker: ${error.message}`));
    child.on('exit', (code, signal) => finish(signal ? `the worker was killed by ${signal}` : `the worker exited with code ${code}`));
  });
}

export const LOCK_FILE = 'runner.lock';

/** One runner per experiment folder: two would append to the same metrics files (a dead holder's lock is taken over). */
function acquireLock(experimentDir: string): () => void {
  return acquireDirectoryLock(experimentDir, LOCK_FILE, `experiment folder ${experimentDir}`);
}

export async function runExperiment(options: RunExperimentOptions): Promise<ExperimentResult> {
  const { experimentDir, plan, configs } = planExperiment(options);
  const release = acquireLock(experimentDir);
  try {
    return await runPlanned(options, experimentDir, plan, configs);
  } finally {
    release();
  }
}

async function runPlanned(options: RunExperimentOptions, experimentDir: string, plan: PlannedVariant[], configs: VariantConfig[]): Promise<ExperimentResult> {
  const { spec } = options;
  const emit = options.onEvent ?? (() => {});
  const record: ExperimentRecord = {
    name: spec.name, description: spec.description, kind: spec.kind, scale: options.scale, ...(spec.sweep !== undefined ? { sweep: spec.sweep } : {}),
    variants: plan.map((p) => p.name), divergence: spec.divergence, sample: spec.sample,
  };
  writeJsonAtomic(path.join(experimentDir, EXPERIMENT_FILE), record);
  emit({ type: 'plan', experimentDir, variants: plan });
  const worker = options.worker ?? defaultWorker();
  const count = plan.length;
  const results: ExperimentResult['variants'] = new Array(count);
  plan.forEach((p, i) => {
    if (p.skip) results[i] = { name: p.name, status: readStatus(configs[i]!.train.runDir)!, skipped: true };
  });
  const queue = plan.map((p, i) => i).filter((i) => !plan[i]!.skip);
  const runOne = async (index: number) => {
    const config = configs[index]!;
    const dir = config.train.runDir;
    fs.mkdirSync(dir, { recursive: true });
    writeJsonAtomic(path.join(dir, VARIANT_CONFIG_FILE), config);
    fs.rmSync(path.join(dir, STATUS_FILE), { force: true }); // a failed attempt's; this one decides
    const reusable = plan[index]!.reuseFrom;
    if (reusable) {
      const status = reuseVariant(reusable, config, path.resolve(options.outDir));
      results[index] = { name: config.variant, status, skipped: false };
      emit({ type: 'variant-end', name: config.variant, index, count, status });
      return;
    }
    let pid = 0;
    const status = await runChild(worker, dir, (message) => {
      if (message.type === 'progress') emit({ type: 'progress', name: config.variant, index, count, step: message.step, steps: message.steps, loss: message.loss, tokensPerSecond: message.tokensPerSecond });
      else if (message.type === 'checkpoint') emit({ type: 'checkpoint', name: config.variant, step: message.step, pid });
    }, (childPid) => {
      pid = childPid;
      emit({ type: 'variant-start', name: config.variant, index, count, pid });
    });
    results[index] = { name: config.variant, status, skipped: false };
    emit({ type: 'variant-end', name: config.variant, index, count, status });
  };
  const lanes = Array.from({ length: Math.min(options.jobs ?? 1, queue.length) }, async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) await runOne(next);
  });
  await Promise.all(lanes);
  return { experimentDir, variants: results };
}
