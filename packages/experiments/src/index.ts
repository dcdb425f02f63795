export { DEFAULT_SAMPLE, PLACEHOLDER_SETTINGS, RUNNER_FIELDS, SCALES, listExperimentSpecs, loadExperimentSpec, parseExperimentSpec, resolveVariants, specsDir } from './experiment-spec.js';
export type { ExperimentKind, ExperimentSpec, OverrideValue, Overrides, ResolvedVariant, RunnerSettings, SampleSettings, ScaleName, ScaleSpec } from './experiment-spec.js';
export { DEFAULT_DIVERGENCE_RULE, DivergenceDetector, findDivergence } from './divergence.js';
export type { DivergenceRule, DivergenceVerdict } from './divergence.js';
export { SGD_TOY_SIZE, runSgdToy } from './sgd-toy.js';
export { STATUS_FILE, VARIANT_CONFIG_FILE, readStatus, runVariant } from './variant-worker.js';
export type { VariantConfig, VariantState, VariantStatus, WorkerHooks, WorkerMessage } from './variant-worker.js';
export { EXPERIMENT_FILE, LOCK_FILE, VARIANT_LOG_FILE, dataSettings, defaultWorker, findReusable, planExperiment, runExperiment } from './experiment-runner.js';
export type { ExperimentRecord, ExperimentResult, PlannedVariant, RunExperimentOptions, RunnerEvent, WorkerCommand } from './experiment-runner.js';
export {
  SAMPLE_FILE, TABLE_HEADER, TRAIN_SMOOTHING, VARIANT_COLORS, divergenceRuleText, formatDiffers, reportPlots, sampleVariant, smoothLosses, summarizeVariant,
  tableRow, writeExperimentReport,
} from './experiment-report.js';
export type { ReportFiles, VariantSample, VariantSummary, WriteReportOptions } from './experiment-report.js';
export { compareRuns, runLabels } from './compare-runs.js';
export type { ComparedRun, RunComparison } from './compare-runs.js';
