import { checkConfigFields, fieldTypesOf, type ConfigFieldType } from '@cs336/graph';

/**
 * The Transformer LM's hyperparameters (CS336 §3 notation: V vocab, context T_max, d_model, L layers, h heads, d_ff).
 * Defaults are the course's TinyStories-sized model.
 */
export type NormPlacement = 'pre' | 'post' | 'none';

export interface TransformerConfig {
  /** V: number of token ids. */
  vocabSize: number;
  /** Longest sequence the learned position embeddings cover. */
  contextLength: number;
  dModel: number;
  numLayers: number;
  /** h; dModel must divide evenly into h heads of size dModel/h. */
  numHeads: number;
  /** Inner width of the position-wise feed-forward (the course uses 4·dModel). */
  dFf: number;
  /** Dropout on the attention probabilities. */
  attnPdrop: number;
  /** Dropout on the embedding sum and on each sub-layer output before it joins the residual stream. */
  residualPdrop: number;
  /** 'pre' (the course's block), 'post' (original Transformer: norm after the residual add) or 'none' (ablation). */
  norm: NormPlacement;
  /** Parallel block ablation: y = x + Attn(RMSNorm(x)) + FFN(RMSNorm(x)). */
  parallel: boolean;
  /** Reuse token_embeddings.weight as the LM head (no lm_head.weight parameter). */
  tieEmbeddings: boolean;
  /** ε inside RMSNorm's square root. */
  rmsNormEps: number;
}

export const DEFAULT_TRANSFORMER_CONFIG: Readonly<TransformerConfig> = Object.freeze({
  vocabSize: 10_000,
  contextLength: 256,
  dModel: 512,
  numLayers: 4,
  numHeads: 16,
  dFf: 2048,
  attnPdrop: 0,
  residualPdrop: 0,
  norm: 'pre',
  parallel: false,
  tieEmbeddings: false,
  rmsNormEps: 1e-5,
});

/** Fills defaults, checks every field, and returns a frozen config. */
/** Each field's type, for checking configs read from JSON (checkConfigFields). */
export const TRANSFORMER_CONFIG_FIELDS: Readonly<Record<keyof TransformerConfig, ConfigFieldType>> = Object.freeze({ ...fieldTypesOf(DEFAULT_TRANSFORMER_CONFIG), norm: ['pre', 'post', 'none'] });

export function resolveTransformerConfig(partial: Partial<TransformerConfig> = {}): Readonly<TransformerConfig> {
  checkConfigFields('TransformerConfig', partial, TRANSFORMER_CONFIG_FIELDS); // unknown keys and wrong types, e.g. from a JSON config file
  const config = { ...DEFAULT_TRANSFORMER_CONFIG, ...definedFields(partial) };
  for (const key of ['vocabSize', 'contextLength', 'dModel', 'numLayers', 'numHeads', 'dFf'] as const) {
    const value = config[key];
    if (!Number.isInteger(value) || value < 1) throw new Error(`TransformerConfig: ${key} must be a positive integer, got ${value}`);
  }
  for (const key of ['attnPdrop', 'residualPdrop'] as const) {
    const value = config[key];
    if (!(value >= 0 && value < 1)) throw new Error(`TransformerConfig: ${key} must be in [0, 1), got ${value}`);
  }
  if (config.dModel % config.numHeads !== 0) {
    throw new Error(
      `TransformerConfig: dModel (${config.dModel}) must be divisible by numHeads (${config.numHeads}); ` +
        `pick numHeads from the divisors of ${config.dModel}`,
    );
  }
  if (!['pre', 'post', 'none'].includes(config.norm)) {
    throw new Error(`TransformerConfig: norm must be 'pre', 'post' or 'none', got ${String(config.norm)}`);
  }
  if (config.parallel && config.norm === 'post') {
    throw new Error("TransformerConfig: parallel blocks need norm 'pre' or 'none' (a post-norm parallel block is not defined); set parallel: false or change norm");
  }
  if (!(config.rmsNormEps > 0)) throw new Error(`TransformerConfig: rmsNormEps must be positive, got ${config.rmsNormEps}`);
  return Object.freeze(config);
}

/** The fields that are not undefined (so `{ dModel: undefined }` keeps the default). */
function definedFields<T extends object>(partial: T): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** dk = dv = dModel / numHeads. */
export function headSize(config: TransformerConfig): number {
  return config.dModel / config.numHeads;
}
