export { DEFAULT_TRANSFORMER_CONFIG, TRANSFORMER_CONFIG_FIELDS, headSize, resolveTransformerConfig } from './transformer-config.js';
export type { NormPlacement, TransformerConfig } from './transformer-config.js';
export { createParameterValues, layerWeights, requireWeight } from './parameter-values.js';
export type { ParameterValues } from './parameter-values.js';
export { blockParameters, checkWeights, initParameters, parameterCount, transformerParameters } from './parameters.js';
export type { InitOptions, ParameterInit, ParameterSpec, WeightArray, Weights } from './parameters.js';
export {
  causalMask, checkTokenIds, erf, referenceAttention, referenceFeedForward, referenceGelu, referenceLinear,
  referenceMultiHeadSelfAttention, referenceRmsNorm, referenceSoftmax, referenceTransformerBlock, referenceTransformerLm,
} from './reference-transformer.js';
export {
  ADAMW_FLOPS_PER_PARAMETER, FLOP_COMPONENTS, GPT2_PRESETS, accounting, adamwMemory, adamwStepFlops, flopShares, modelFlopsUtilization, resourceReport, trainingTime,
} from './accounting.js';
export type {
  Accounting, AccountingBatch, AdamWMemory, FlopComponent, ForwardFlops, Gpt2Preset, MemoryRow, ResourceReport, ResourceReportOptions, TrainingTimeOptions,
} from './accounting.js';
export { castTo, maybeDropout } from './forward-options.js';
export type { ComputeDType, ForwardOptions, KeysValues, KvCache } from './forward-options.js';
export { linear } from './linear.js';
export { embedding } from './embedding.js';
export { rmsNorm } from './rms-norm.js';
export { gelu } from './gelu.js';
export { erfFloat64 } from './erf-float64.js';
export { softmax } from './softmax.js';
export { feedForward } from './feed-forward.js';
export { causalMaskFor, multiHeadSelfAttention, scaledDotProductAttention } from './attention.js';
export type { AttentionOptions, AttentionWeights } from './attention.js';
export { transformerBlock } from './transformer-block.js';
export { transformerLm } from './transformer-lm.js';
export {
  runGelu, runMultiheadSelfAttention, runPositionwiseFeedforward, runRmsNorm, runScaledDotProductAttention, runSoftmax,
  runTransformerBlock, runTransformerLm,
} from './adapters.js';
export type { FloatTensor, IdTensor, RunOptions, WeightRecord } from './adapters.js';
