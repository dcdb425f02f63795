/**
 * Resource accounting for the Transformer LM, following the handout's `transformer_accounting` and
 * `adamwAccounting` problems. B batch, T sequence length, d dModel, h heads, L layers, V vocab, dFf FFN width.
 *
 * FLOPs count matrix multiplies only (2·m·n·p for an (m×n)·(n×p) product), as the handout does:
 *   per layer  q/k/v projections 3·2Td², QKᵀ 2T²d, scores·V 2T²d, output projection 2Td², FFN 2·2T·d·dFf
 *   once       LM head 2TdV
 * The backward pass costs twice the forward (one product for the input gradient, one for the weight gradient).
 *
 * Memory (bytes = elements × bytesPerElement, float32 by default):
 *   parameters P, gradients P, AdamW state 2P (m and v),
 *   activations per the handout's list — per layer: two RMSNorm outputs 2BTd, q/k/v 3BTd, QKᵀ BhT², softmax BhT²,
 *   weighted values BTd, output projection BTd, W1 BT·dFf, GELU BT·dFf, W2 BTd; then final RMSNorm BTd,
 *   logits BTV and cross-entropy (softmax) BTV.
 * So peak AdamW memory is linear in B: bytes(B) = fixedBytes (16 bytes per parameter in float32) + B·bytesPerSequence.
 *
 * One AdamW step = forward + backward over B·T tokens (3× the forward matmul FLOPs) plus the update itself,
 * ADAMW_FLOPS_PER_PARAMETER elementwise operations per parameter (counted in adamwStepFlops).
 */
import { parameterCount, transformerParameters } from './parameters.js';
import { resolveTransformerConfig, type TransformerConfig } from './transformer-config.js';

/** GPT-2 shapes from the handout (vocab 50,257, context 1,024, dFf = 4·dModel). */
export const GPT2_PRESETS = Object.freeze({
  small: Object.freeze({ vocabSize: 50_257, contextLength: 1024, numLayers: 12, dModel: 768, numHeads: 12, dFf: 3072 }),
  medium: Object.freeze({ vocabSize: 50_257, contextLength: 1024, numLayers: 24, dModel: 1024, numHeads: 16, dFf: 4096 }),
  large: Object.freeze({ vocabSize: 50_257, contextLength: 1024, numLayers: 36, dModel: 1280, numHeads: 20, dFf: 5120 }),
  xl: Object.freeze({ vocabSize: 50_257, contextLength: 1024, numLayers: 48, dModel: 1600, numHeads: 25, dFf: 6400 }),
});
export type Gpt2Preset = keyof typeof GPT2_PRESETS;

export interface AccountingBatch {
  batchSize: number;
  /** Defaults to config.contextLength. */
  seqLen?: number;
  /** 4 for float32 (default). */
  bytesPerElement?: number;
}

/** Matrix-multiply FLOPs of one forward pass over one sequence of seqLen tokens, by component. */
export interface ForwardFlops {
  qkvProjections: number;
  attentionScores: number;
  attentionValues: number;
  outputProjection: number;
  feedForward: number;
  lmHead: number;
  total: number;
}

export interface Accounting {
  parameters: { total: number; embeddings: number; perLayer: number; layers: number; finalNorm: number; lmHead: number };
  /** Forward FLOPs for one sequence (seqLen tokens). */
  forwardFlopsPerSequence: ForwardFlops;
  flopsPerToken: { forward: number; backward: number; trainingStep: number };
  memoryBytes: { parameters: number; gradients: number; optimizerState: number; activations: number; total: number };
  /** Activation elements (before bytesPerElement). */
  activationElements: number;
}

export function accounting(configInput: Partial<TransformerConfig>, batch: AccountingBatch): Accounting {
  const config = resolveTransformerConfig(configInput);
  const { vocabSize: V, dModel: d, numLayers: L, numHeads: h, dFf } = config;
  const T = batch.seqLen ?? config.contextLength;
  const B = batch.batchSize;
  const bytes = batch.bytesPerElement ?? 4;
  if (!Number.isInteger(B) || B < 1) throw new Error(`accounting: batchSize must be a positive integer, got ${B}`);
  if (!Number.isInteger(T) || T < 1 || T > config.contextLength) {
    throw new Error(`accounting: seqLen must be an integer in [1, contextLength ${config.contextLength}], got ${T}`);
  }

  const specs = transformerParameters(config);
  const countOf = (test: (name: string) => boolean): number => parameterCount(specs.filter((s) => test(s.name)));
  const total = parameterCount(specs);
  const layers = countOf((n) => n.startsWith('layers.'));
  const parameters = {
    total,
    embeddings: countOf((n) => n.endsWith('_embeddings.weight')),
    perLayer: layers / L,
    layers,
    finalNorm: countOf((n) => n === 'ln_final.weight'),
    lmHead: countOf((n) => n === 'lm_head.weight'),
  };

  const flops: Omit<ForwardFlops, 'total'> = {
    qkvProjections: L * 3 * 2 * T * d * d,
    attentionScores: L * 2 * T * T * d,
    attentionValues: L * 2 * T * T * d,
    outputProjection: L * 2 * T * d * d,
    feedForward: L * 2 * 2 * T * d * dFf,
    lmHead: 2 * T * d * V,
  };
  const forwardFlopsPerSequence = { ...flops, total: Object.values(flops).reduce((a, b) => a + b, 0) };
  const forward = forwardFlopsPerSequence.total / T;

  const perLayerActivations = B * T * (8 * d + 2 * dFf) + 2 * B * h * T * T;
  const activationElements = L * perLayerActivations + B * T * d + 2 * B * T * V;
  const memoryBytes = {
    parameters: bytes * total,
    gradients: bytes * total,
    optimizerState: bytes * 2 * total,
    activations: bytes * activationElements,
    total: bytes * (4 * total + activationElements),
  };
  return {
    parameters,
    forwardFlopsPerSequence,
    flopsPerToken: { forward, backward: 2 * forward, trainingStep: 3 * forward },
    memoryBytes,
    activationElements,
  };
}

/** The six matmul groups of ForwardFlops (everything but the total), in the handout's order. */
export const FLOP_COMPONENTS = ['qkvProjections', 'attentionScores', 'attentionValues', 'outputProjection', 'feedForward', 'lmHead'] as const;
export type FlopComponent = (typeof FLOP_COMPONENTS)[number];

/** Each component's fraction of the forward matmul FLOPs (they sum to 1). */
export function flopShares(flops: ForwardFlops): Record<FlopComponent, number> {
  return Object.fromEntries(FLOP_COMPONENTS.map((c) => [c, flops[c] / flops.total])) as Record<FlopComponent, number>;
}

/**
 * Elementwise operations of one AdamW update per parameter (Algorithm 1, α_t computed once per step):
 * m ← β1·m + (1−β1)·g is 3; v ← β2·v + (1−β2)·g² is 4; θ ← θ − α_t·m/(√v+ε) is 5 (sqrt, add, divide,
 * multiply, subtract); θ ← θ − αλ·θ is 2.
 */
export const ADAMW_FLOPS_PER_PARAMETER = 14;

/** Peak AdamW training memory as a line in the batch size: total(B) = fixedBytes + B·bytesPerSequence. */
export interface AdamWMemory {
  /** Parameters, gradients and the two moments: independent of B. */
  fixedBytes: number;
  /** Activations of one sequence of seqLen tokens. */
  bytesPerSequence: number;
  /** Bytes at a batch size. */
  at(batchSize: number): number;
  /** The largest batch whose peak fits in `budgetBytes` (0 when not even the parameters fit). */
  maxBatchSize(budgetBytes: number): number;
}

export function adamwMemory(config: Partial<TransformerConfig>, options: Omit<AccountingBatch, 'batchSize'> = {}): AdamWMemory {
  const one = accounting(config, { ...options, batchSize: 1 });
  const fixedBytes = one.memoryBytes.total - one.memoryBytes.activations;
  const bytesPerSequence = one.memoryBytes.activations;
  return {
    fixedBytes,
    bytesPerSequence,
    at: (batchSize) => fixedBytes + batchSize * bytesPerSequence,
    maxBatchSize: (budgetBytes) => Math.max(0, Math.floor((budgetBytes - fixedBytes) / bytesPerSequence)),
  };
}

/** FLOPs of one AdamW training step on B sequences of seqLen tokens. */
export function adamwStepFlops(config: Partial<TransformerConfig>, batch: Omit<AccountingBatch, 'bytesPerElement'>): { forwardBackward: number; optimizer: number; total: number } {
  const a = accounting(config, batch);
  const T = batch.seqLen ?? resolveTransformerConfig(config).contextLength;
  const forwardBackward = a.flopsPerToken.trainingStep * batch.batchSize * T;
  const optimizer = ADAMW_FLOPS_PER_PARAMETER * a.parameters.total;
  return { forwardBackward, optimizer, total: forwardBackward + optimizer };
}

export interface TrainingTimeOptions {
  steps: number;
  batchSize: number;
  /** Defaults to config.contextLength. */
  seqLen?: number;
  /** Model FLOPs utilization, in (0, 1]. */
  mfu: number;
  /** The accelerator's peak, FLOP/s (an A100's float32 peak is 19.5e12). */
  peakFlopsPerSecond: number;
}

/** Wall time of `steps` AdamW steps at a given MFU: total step FLOPs / (mfu · peak). */
export function trainingTime(config: Partial<TransformerConfig>, options: TrainingTimeOptions): { flops: number; seconds: number; days: number } {
  if (!(options.mfu > 0 && options.mfu <= 1)) throw new Error(`trainingTime: mfu must be in (0, 1], got ${options.mfu}`);
  if (!(options.peakFlopsPerSecond > 0)) throw new Error(`trainingTime: peakFlopsPerSecond must be positive, got ${options.peakFlopsPerSecond}`);
  if (!Number.isInteger(options.steps) || options.steps < 1) throw new Error(`trainingTime: steps must be a positive integer, got ${options.steps}`);
  const step = adamwStepFlops(config, { batchSize: options.batchSize, ...(options.seqLen !== undefined ? { seqLen: options.seqLen } : {}) });
  const flops = options.steps * step.total;
  const seconds = flops / (options.mfu * options.peakFlopsPerSecond);
  return { flops, seconds, days: seconds / 86_400 };
}

/**
 * MFU of a measured training rate: tokens/s × training FLOPs per token (3× forward, matmuls only, at
 * sequence length seqLen) against a peak in FLOP/s.
 */
export function modelFlopsUtilization(config: Partial<TransformerConfig>, options: { tokensPerSecond: number; peakFlopsPerSecond: number; seqLen?: number }): { flopsPerToken: number; achievedFlopsPerSecond: number; mfu: number } {
  if (!(options.tokensPerSecond > 0)) throw new Error(`modelFlopsUtilization: tokensPerSecond must be positive, got ${options.tokensPerSecond}`);
  if (!(options.peakFlopsPerSecond > 0)) throw new Error(`modelFlopsUtilization: peakFlopsPerSecond must be positive, got ${options.peakFlopsPerSecond}`);
  const flopsPerToken = accounting(config, { batchSize: 1, ...(options.seqLen !== undefined ? { seqLen: options.seqLen } : {}) }).flopsPerToken.trainingStep;
  const achievedFlopsPerSecond = options.tokensPerSecond * flopsPerToken;
  return { flopsPerToken, achievedFlopsPerSecond, mfu: achievedFlopsPerSecond / options.peakFlopsPerSecond };
}

export interface ResourceReportOptions {
  /** Batch for the step FLOPs, a memory row and the training-time estimate. Default 1024 (the handout's). */
  batchSize?: number;
  /** Memory budget for the largest batch, bytes. Default 80e9 (an 80 GB accelerator, decimal gigabytes). */
  memoryBudgetBytes?: number;
  /** The long context the handout asks about. Default 16,384. */
  longContext?: number;
  /** The training-time question: default 400k steps at 50% MFU of 19.5e12 FLOP/s (A100, float32). */
  trainingSteps?: number;
  mfu?: number;
  peakFlopsPerSecond?: number;
}

export interface MemoryRow { batchSize: number; parameters: number; gradients: number; optimizerState: number; activations: number; total: number; fits: boolean }

/** Every accounting question of the handout for one config, as plain numbers (JSON-ready). */
export interface ResourceReport {
  model: TransformerConfig;
  parameters: Accounting['parameters'];
  forward: { seqLen: number; flops: ForwardFlops; shares: Record<FlopComponent, number> };
  /** The GPT-2 presets at their context (1,024): how the shares move with model size. */
  bySize: Array<{ preset: Gpt2Preset; parameters: number; totalFlops: number; shares: Record<FlopComponent, number> }>;
  longContext: { seqLen: number; parameters: number; flops: ForwardFlops; shares: Record<FlopComponent, number>; flopsRatio: number };
  memory: { fixedBytes: number; bytesPerSequence: number; budgetBytes: number; maxBatchSize: number; rows: MemoryRow[] };
  step: { batchSize: number; forwardBackward: number; optimizer: number; total: number };
  training: { steps: number; batchSize: number; mfu: number; peakFlopsPerSecond: number; flops: number; days: number };
}

export function resourceReport(configInput: Partial<TransformerConfig>, options: ResourceReportOptions = {}): ResourceReport {
  const model = resolveTransformerConfig(configInput);
  const B = options.batchSize ?? 1024;
  const budget = options.memoryBudgetBytes ?? 80e9;
  const longT = options.longContext ?? 16_384;
  const a = accounting(model, { batchSize: 1 });
  const long = accounting({ ...model, contextLength: longT }, { batchSize: 1 }).forwardFlopsPerSequence;
  const memory = adamwMemory(model);
  const maxBatchSize = memory.maxBatchSize(budget);
  const row = (batchSize: number): MemoryRow => {
    const m = accounting(model, { batchSize }).memoryBytes;
    return { batchSize, parameters: m.parameters, gradients: m.gradients, optimizerState: m.optimizerState, activations: m.activations, total: m.total, fits: m.total <= budget };
  };
  const batches = [...new Set([1, Math.max(1, maxBatchSize), maxBatchSize + 1, B])].sort((x, y) => x - y);
  const step = adamwStepFlops(model, { batchSize: B });
  const steps = options.trainingSteps ?? 400_000;
  const mfu = options.mfu ?? 0.5;
  const peakFlopsPerSecond = options.peakFlopsPerSecond ?? 19.5e12;
  const time = trainingTime(model, { steps, batchSize: B, mfu, peakFlopsPerSecond });
  return {
    model: { ...model },
    parameters: a.parameters,
    forward: { seqLen: model.contextLength, flops: a.forwardFlopsPerSequence, shares: flopShares(a.forwardFlopsPerSequence) },
    bySize: (Object.keys(GPT2_PRESETS) as Gpt2Preset[]).map((preset) => {
      const p = accounting(GPT2_PRESETS[preset], { batchSize: 1 });
      return { preset, parameters: p.parameters.total, totalFlops: p.forwardFlopsPerSequence.total, shares: flopShares(p.forwardFlopsPerSequence) };
    }),
    longContext: {
      seqLen: longT,
      parameters: parameterCount(transformerParameters({ ...model, contextLength: longT })),
      flops: long,
      shares: flopShares(long),
      flopsRatio: long.total / a.forwardFlopsPerSequence.total,
    },
    memory: { fixedBytes: memory.fixedBytes, bytesPerSequence: memory.bytesPerSequence, budgetBytes: budget, maxBatchSize, rows: batches.map(row) },
    step: { batchSize: B, ...step },
    training: { steps, batchSize: B, mfu, peakFlopsPerSecond, flops: time.flops, days: time.days },
  };
}
