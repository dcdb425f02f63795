/**
 * The pre-norm Transformer block (CS336 §3.5): y = x + Attn(RMSNorm(x)); z = y + FFN(RMSNorm(y)),
 * with residual dropout on each sub-layer output, plus the ablations:
 *   norm 'post'  z = RMSNorm(y + FFN(y)) after y = RMSNorm(x + Attn(x))   (the original Transformer)
 *   norm 'none'  no RMSNorm at all
 *   parallel     z = x + Attn(RMSNorm(x)) + FFN(RMSNorm(x))               (GPT-J / PaLM style)
 */
import { add, type Value } from '@cs336/graph';
import { multiHeadSelfAttention } from './attention.js';
import { feedForward } from './feed-forward.js';
import type { AttentionOptions } from './attention.js';
import { maybeDropout } from './forward-options.js';
import { requireWeight, type ParameterValues } from './parameter-values.js';
import { rmsNorm } from './rms-norm.js';
import type { TransformerConfig } from './transformer-config.js';

/**
 * x (B, T, dModel) → (B, T, dModel). `weights` uses block-relative names: attn.q_proj.weight, ln1.weight, …
 * `options.kv` is this layer's KV-cache slot (see KvCache), passed on to the attention.
 */
export function transformerBlock(x: Value, weights: ParameterValues, config: TransformerConfig, options: AttentionOptions = {}): Value {
  const w = (name: string): Value => requireWeight(weights, name, 'transformerBlock');
  const attention = (h: Value): Value =>
    maybeDropout(
      multiHeadSelfAttention(
        h,
        { q: w('attn.q_proj.weight'), k: w('attn.k_proj.weight'), v: w('attn.v_proj.weight'), output: w('attn.output_proj.weight') },
        config.numHeads,
        { ...options, attnPdrop: config.attnPdrop },
      ),
      config.residualPdrop,
      options,
    );
  const ffn = (h: Value): Value => maybeDropout(feedForward(h, w('ffn.w1.weight'), w('ffn.w2.weight')), config.residualPdrop, options);
  const norm = (h: Value, gain: string): Value => (config.norm === 'none' ? h : rmsNorm(h, w(gain), config.rmsNormEps));

  if (config.norm === 'post') {
    const y = norm(add(x, attention(x)), 'ln1.weight');
    return norm(add(y, ffn(y)), 'ln2.weight');
  }
  if (config.parallel) return add(add(x, attention(norm(x, 'ln1.weight'))), ffn(norm(x, 'ln2.weight')));
  const y = add(x, attention(norm(x, 'ln1.weight')));
  return add(y, ffn(norm(y, 'ln2.weight')));
}
