export { Random } from './random.js';
export type { RandomState } from './random.js';
export { TokenFile, getBatch, sampleWindows, sequentialBatchCount, sequentialWindows, sidecarPath, splitWindows } from './token-file.js';
export type { Batch, TokenDType, TokenFileOptions, TokenFileSidecar } from './token-file.js';
export { decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors } from './safetensors.js';
export type { Safetensors, Tensor, TensorData, TensorDType } from './safetensors.js';
export { CHECKPOINT_FILE, checkpointPath, loadCheckpoint, readCheckpointMetadata, saveCheckpoint } from './checkpoint.js';
export type { CheckpointFs, CheckpointMetadata, CheckpointState, LoadCheckpointOptions, SaveCheckpointOptions } from './checkpoint.js';
export { canonicalJson, configHash } from './config-hash.js';
export { DEFAULT_TRAIN_CONFIG, TRAIN_CONFIG_FIELDS, TRAIN_OVERRIDE_ALIASES, applyOverrides, readRunConfigFile, resolveTrainConfig } from './train-config.js';
export type { ConfigOverride, RunConfigFile, TrainConfig } from './train-config.js';
export { MetricsLog, readMetrics } from './metrics.js';
export type { MetricsRecord } from './metrics.js';
export { escapeXml, logTicks, niceTicks, renderLossCurveSvg, renderPanelsSvg, renderPng, writeLossCurve } from './loss-curve.js';
export type { PlotPanel, PlotSeries } from './loss-curve.js';
export { DEFAULT_GENERATE_OPTIONS, generate, nextTokenDistribution, resolveGenerateOptions } from './generate.js';
export type { GenerateOptions, NextTokenModel } from './generate.js';
export { ARTIFACTS_FORMAT, MANIFEST_FILE, buildArtifacts, onnxruntimeVersion, readManifest } from './artifacts.js';
export type { ArtifactManifest, BuildArtifactsResult, TensorInfo } from './artifacts.js';
export {
  IDS_INPUT, LAST_POSITION_INPUT, LOGITS_OUTPUT, POSITION_INPUT, buildDecodeStepGraph, buildEvalGraph, buildInferGraph, buildPrefillGraph, buildTrainStepGraph,
  crossEntropyWithGradient, kvName, lossAndGradients, momentName, updatedName,
} from './train-step.js';
export type { OptimizerSettings, Precision, TrainStepShape } from './train-step.js';
export { DEFAULT_LOSS_SCALE, DEFAULT_LOSS_SCALE_WINDOW, LOSS_SCALE_BACKOFF, LOSS_SCALE_GROWTH, lossScaleUpdate, skipUnlessFinite } from './loss-scale.js';
export type { LossScaleState } from './loss-scale.js';
export { InferenceModel, TrainingSession } from './training-session.js';
export type { InferenceOptions, InferenceWeights, StepsResult, TrainingState } from './training-session.js';
export { evaluateCheckpoint, evaluateLoss } from './evaluate.js';
export type { EvaluateOptions, EvaluationResult } from './evaluate.js';
export { loadInitialParameters } from './init-from.js';
export type { InitialParameters } from './init-from.js';
export { ARTIFACTS_DIR, METRICS_FILE, NonFiniteLossError, resolveTrainRunConfig, train } from './train.js';
export type { TrainHooks, TrainProgress, TrainResult, TrainRunConfig } from './train.js';
export { RunStateError, checkSameData, dataIdentity, describeIdentity, identityDifferences, savedIdentity } from './run-identity.js';
export type { DataIdentity } from './run-identity.js';
export { HANDOUT_TOKEN_BUDGET, TRAINING_PRESETS, presetSteps, trainingPreset } from './presets.js';
export type { TrainingPreset } from './presets.js';
