/**
 * The Transformer LM (CS336 §3.1, read it next to nanoGPT's GPT.forward): token + learned absolute position
 * embeddings, dropout, L blocks, final RMSNorm, LM head (optionally tied to the token embeddings).
 */
import { add, gather, shape, type Value } from '@cs336/graph';
import { embedding } from './embedding.js';
import type { AttentionOptions } from './attention.js';
import { castTo, maybeDropout, type ComputeDType, type ForwardOptions } from './forward-options.js';
import { linear } from './linear.js';
import { layerWeights, requireWeight, type ParameterValues } from './parameter-values.js';
import { rmsNorm } from './rms-norm.js';
import { sliceRows } from './slice-rows.js';
import { transformerBlock } from './transformer-block.js';
import type { TransformerConfig } from './transformer-config.js';

/**
 * ids (B, T) int64 → logits (B, T, V), or (B, V) at `options.lastPosition`. `weights` holds the
 * parameters by state-dict name. With `options.computeDtype` the model runs in that dtype: the
 * embeddings are looked up in the weights' dtype (their gradient is a scatter-add over many tokens,
 * kept wide) and their sum cast once; every other weight is cast where used; the logits come back
 * in the weights' dtype.
 */
export function transformerLm(ids: Value, weights: ParameterValues, config: TransformerConfig, options: ForwardOptions = {}): Value {
  const master = (name: string): Value => requireWeight(weights, name, 'transformerLm');
  const compute = options.computeDtype;
  const w = (name: string): Value => castTo(master(name), compute);
  const t = ids.shape[1];
  if (typeof t === 'number' && t > config.contextLength) {
    throw new Error(`transformerLm: sequence length ${t} exceeds contextLength ${config.contextLength}; truncate the input or raise contextLength`);
  }
  const cache = options.kvCache;
  if (cache?.past && cache.past.length !== config.numLayers) throw new Error(`transformerLm: the KV cache has ${cache.past.length} layers, the model ${config.numLayers}`);
  if (cache?.past && !cache.position) throw new Error('transformerLm: a KV cache step needs the new token\'s position');
  const tokens = embedding(ids, master('token_embeddings.weight')); // (B, T, d)
  const positions = cache?.past
    ? gather(master('position_embeddings.weight'), cache.position!) // (1, d): the one new token's row
    : sliceRows(master('position_embeddings.weight'), typeof t === 'number' ? t : shape(ids, 1, 2), t); // (T, d)
  let x = maybeDropout(castTo(add(tokens, positions), compute), config.residualPdrop, options);
  const blockWeights = (i: number): ParameterValues => castWeights(layerWeights(weights, i), compute);
  for (let i = 0; i < config.numLayers; i++) {
    if (!cache) {
      x = transformerBlock(x, blockWeights(i), config, options);
      continue;
    }
    // The attention fills kv.present.
    const kv: NonNullable<AttentionOptions['kv']> = cache.past ? { past: cache.past[i]!, ...(cache.layout === 'fixed' ? { writeAt: cache.position! } : {}) } : {};
    x = transformerBlock(x, blockWeights(i), config, { ...options, kv });
    cache.present[i] = kv.present!;
  }
  if (options.lastPosition) x = gather(x, options.lastPosition, 1); // (B, d): the head runs on one position
  if (config.norm !== 'none') x = rmsNorm(x, w('ln_final.weight'), config.rmsNormEps);
  const logits = linear(x, w(config.tieEmbeddings ? 'token_embeddings.weight' : 'lm_head.weight')); // (B, T, V), or (B, V)
  return castTo(logits, master('token_embeddings.weight').dtype);
}

function castWeights(weights: ParameterValues, dtype: ComputeDType | undefined): ParameterValues {
  return dtype === undefined ? weights : Object.fromEntries(Object.entries(weights).map(([name, value]) => [name, castTo(value, dtype)]));
}
