/**
 * One variant, in its own process: reads `<variantDir>/config.json` (written by the runner), trains
 * (resuming from the variant's checkpoint when there is one), watches for divergence, and writes
 * `status.json` last, so a variant without a finished status is one to resume. Progress goes to the
 * runner over the IPC channel when there is one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { METRICS_FILE, NonFiniteLossError, readMetrics, train, type MetricsRecord, type TrainConfig } from '@cs336/train';
import type { TransformerConfig } from '@cs336/nn';
import { writeJsonAtomic } from './json-file.js';
import { DivergenceDetector, type DivergenceRule, type DivergenceVerdict } from './divergence.js';
import type { ExperimentKind, Overrides } from './experiment-spec.js';
import { runSgdToy } from './sgd-toy.js';

export const VARIANT_CONFIG_FILE = 'config.json';
export const STATUS_FILE = 'status.json';

/** What the runner writes for a variant: everything the worker needs. */
export interface VariantConfig {
  experiment: string;
  variant: string;
  kind: ExperimentKind;
  differs: Overrides;
  model: TransformerConfig;
  train: TrainConfig;
  divergence: DivergenceRule;
}

export type VariantState = 'done' | 'diverged' | 'failed';

export interface VariantStatus {
  state: VariantState;
  /** Steps taken (the last step with a metrics record). */
  step: number;
  steps: number;
  divergedAt?: number;
  reason?: string;
  error?: string;
  /** Copied from this finished variant (relative to the runs folder), which had the same config. */
  reusedFrom?: string;
}

/** Messages from a worker to the runner. */
export type WorkerMessage =
  | { type: 'start'; step: number; steps: number }
  | { type: 'progress'; step: number; steps: number; loss: number; tokensPerSecond: number }
  | { type: 'checkpoint'; step: number }
  | { type: 'status'; status: VariantStatus };

export interface WorkerHooks {
  /** Called after each step's record, after the divergence check (tests slow the run down here). */
  onStep?: (record: MetricsRecord) => void;
}

export function readStatus(variantDir: string): VariantStatus | undefined {
  const file = path.join(variantDir, STATUS_FILE);
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as VariantStatus;
  } catch {
    return undefined;
  }
}

function send(message: WorkerMessage): void {
  process.send?.(message);
}

export async function runVariant(variantDir: string, hooks: WorkerHooks = {}): Promise<VariantStatus> {
  const config = JSON.parse(fs.readFileSync(path.join(variantDir, VARIANT_CONFIG_FILE), 'utf8')) as VariantConfig;
  const detector = new DivergenceDetector(config.divergence);
  let verdict: DivergenceVerdict | undefined;
  let step = 0;
  const steps = config.train.steps;
  if (config.kind === 'sgd-toy') {
    send({ type: 'start', step: 0, steps });
    const records = runSgdToy(variantDir, { lr: config.train.maxLearningRate, steps, seed: config.train.seed }, (record) => {
      verdict = detector.check(record.step, record.trainLoss!); // every SGD-toy record has a train loss
      hooks.onStep?.(record);
      send({ type: 'progress', step: record.step, steps, loss: record.trainLoss!, tokensPerSecond: 0 });
      return verdict === undefined;
    });
    step = records.at(-1)?.step ?? 0;
  } else {
    const controller = new AbortController();
    try {
      const result = await train({ model: config.model, train: config.train, resume: true }, {
        signal: controller.signal,
        // Ctrl-C in the terminal reaches every child: save a checkpoint, so a re-run resumes from here.
        handleSignals: true,
        log: (line) => process.stderr.write(`${line}\n`),
        onStart: (info) => {
          // Resuming: replay the kept steps through the detector so its state is as if never stopped.
          for (const record of readMetrics(path.join(variantDir, METRICS_FILE)).filter((r) => r.step <= info.step)) {
            if (record.trainLoss !== undefined) verdict ??= detector.check(record.step, record.trainLoss); // the step-0 record has none
          }
          if (verdict) controller.abort();
          send({ type: 'start', step: info.step, steps: info.steps });
        },
        onStep: (record) => {
          if (!verdict && record.trainLoss !== undefined) { // the step-0 evaluation has no train loss
            verdict = detector.check(record.step, record.trainLoss);
            if (verdict) controller.abort();
          }
          hooks.onStep?.(record);
        },
        onProgress: (p) => send({ type: 'progress', step: p.step, steps: p.steps, loss: p.loss, tokensPerSecond: p.tokensPerSecond }),
        onCheckpoint: (_file, at) => send({ type: 'checkpoint', step: at }),
      });
      step = result.step;
      if (result.interrupted && !verdict) throw new Error(`interrupted at step ${step} of ${steps} (checkpoint saved); run the experiment again to resume`);
    } catch (error) {
      if (!(error instanceof NonFiniteLossError)) throw error;
      verdict = { step: error.step, reason: error.message.split(';')[0]! };
      step = error.step - 1;
    }
  }
  const status: VariantStatus = verdict
    ? { state: 'diverged', step, steps, divergedAt: verdict.step, reason: verdict.reason }
    : { state: 'done', step, steps };
  writeJsonAtomic(path.join(variantDir, STATUS_FILE), status);
  send({ type: 'status', status });
  return status;
}
