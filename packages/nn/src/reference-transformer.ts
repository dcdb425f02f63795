/**
 * A plain-TypeScript float64 forward pass of the Transformer LM, written for reading and as an independent
 * reference (the graph pieces, finite-difference checks and the train package compare against it).
 * Tensors are row-major Float64Arrays; every function says the shape it expects. No dropout: this is the
 * inference-time network. B batch, T sequence, d dModel, h heads, dk head size, V vocab.
 */
import { checkWeights, transformerParameters, type WeightArray } from './parameters.js';
import { resolveTransformerConfig, type TransformerConfig } from './transformer-config.js';

type Numeric = ArrayLike<number>;

/** A Float64Array view of the data (copied only when it is not one already): keeps the hot loops monomorphic. */
function f64(x: Numeric): Float64Array {
  return x instanceof Float64Array ? x : Float64Array.from(x);
}

/** y = x Wᵀ: x (rows, dIn), W (dOut, dIn) → (rows, dOut). */
export function referenceLinear(xInput: Numeric, weightInput: Numeric, rows: number, dIn: number, dOut: number): Float64Array {
  const [x, weight] = [f64(xInput), f64(weightInput)];
  const y = new Float64Array(rows * dOut);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < dOut; o++) {
      let sum = 0;
      for (let i = 0; i < dIn; i++) sum += x[r * dIn + i]! * weight[o * dIn + i]!;
      y[r * dOut + o] = sum;
    }
  }
  return y;
}

/** x / sqrt(mean(x²) + ε) · g over the last axis: x (rows, d), g (d). */
export function referenceRmsNorm(x: Numeric, gain: Numeric, rows: number, d: number, eps = 1e-5): Float64Array {
  const y = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    let meanSquare = 0;
    for (let i = 0; i < d; i++) meanSquare += x[r * d + i]! ** 2;
    const scale = 1 / Math.sqrt(meanSquare / d + eps);
    for (let i = 0; i < d; i++) y[r * d + i] = x[r * d + i]! * scale * gain[i]!;
  }
  return y;
}

/**
 * erf to ~1e-16 relative: Maclaurin series for |x| < 2.5, continued fraction for erfc beyond.
 * (JavaScript has no Math.erf; both forms are textbook.)
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // erf x = 2/√π Σ (−1)ⁿ x^(2n+1) / (n! (2n+1))
    let term = ax, sum = ax;
    for (let n = 1; n < 80; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc x = exp(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + 2/(x + …))))), evaluated from the tail.
  let fraction = ax;
  for (let k = 60; k >= 1; k--) fraction = ax + k / 2 / fraction;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / fraction;
  return Math.sign(x) * (1 - erfc);
}

/** GELU(x) = x · Φ(x) = ½x(1 + erf(x/√2)), elementwise. */
export function referenceGelu(x: Numeric): Float64Array {
  return Float64Array.from({ length: x.length }, (_, i) => 0.5 * x[i]! * (1 + erf(x[i]! / Math.SQRT2)));
}

/** Softmax over the last axis of a (rows, n) tensor, max-subtracted. */
export function referenceSoftmax(x: Numeric, rows: number, n: number): Float64Array {
  const y = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let j = 0; j < n; j++) max = Math.max(max, x[r * n + j]!);
    let sum = 0;
    for (let j = 0; j < n; j++) sum += y[r * n + j] = Math.exp(x[r * n + j]! - max);
    for (let j = 0; j < n; j++) y[r * n + j]! /= sum;
  }
  return y;
}

/**
 * softmax(Q Kᵀ/√dk with masked positions at −∞) V for `batches` independent (T, dk) problems.
 * mask: (T, T), nonzero/true = masked OUT (the course convention), or undefined for no mask.
 */
export function referenceAttention(
  qInput: Numeric, kInput: Numeric, vInput: Numeric, batches: number, tq: number, tk: number, dk: number, dv: number,
  mask?: ArrayLike<number | boolean>,
): Float64Array {
  const [q, k, v] = [f64(qInput), f64(kInput), f64(vInput)];
  const out = new Float64Array(batches * tq * dv);
  const scores = new Float64Array(tk);
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < tq; i++) {
      let max = -Infinity;
      for (let j = 0; j < tk; j++) {
        let dot = 0;
        for (let c = 0; c < dk; c++) dot += q[(b * tq + i) * dk + c]! * k[(b * tk + j) * dk + c]!;
        scores[j] = mask && mask[i * tk + j] ? -Infinity : dot / Math.sqrt(dk);
        max = Math.max(max, scores[j]!);
      }
      let sum = 0;
      for (let j = 0; j < tk; j++) sum += scores[j] = Math.exp(scores[j]! - max);
      for (let j = 0; j < tk; j++) {
        const p = scores[j]! / sum;
        for (let c = 0; c < dv; c++) out[(b * tq + i) * dv + c]! += p * v[(b * tk + j) * dv + c]!;
      }
    }
  }
  return out;
}

/** The causal mask for T positions: (T, T), 1 above the diagonal (a query may not see later keys). */
export function causalMask(t: number): Uint8Array {
  const mask = new Uint8Array(t * t);
  for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) mask[i * t + j] = 1;
  return mask;
}

/** W2 · GELU(W1 · x): x (rows, d), w1 (dFf, d), w2 (d, dFf). */
export function referenceFeedForward(x: Numeric, w1: Numeric, w2: Numeric, rows: number, d: number, dFf: number): Float64Array {
  return referenceLinear(referenceGelu(referenceLinear(x, w1, rows, d, dFf)), w2, rows, dFf, d);
}

/** Causal multi-head self-attention: x (B, T, d) with d×d q/k/v/output projections → (B, T, d). */
export function referenceMultiHeadSelfAttention(
  x: Numeric, weights: { q: Numeric; k: Numeric; v: Numeric; output: Numeric }, batch: number, t: number, d: number, heads: number,
): Float64Array {
  const dk = d / heads;
  const project = (w: Numeric): Float64Array => splitHeads(referenceLinear(x, w, batch * t, d, d), batch, t, heads, dk);
  const attended = referenceAttention(project(weights.q), project(weights.k), project(weights.v), batch * heads, t, t, dk, dk, causalMask(t));
  return referenceLinear(mergeHeads(attended, batch, t, heads, dk), weights.output, batch * t, d, d);
}

/** (B, T, h·dk) → (B, h, T, dk). */
function splitHeads(x: Float64Array, batch: number, t: number, heads: number, dk: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let b = 0; b < batch; b++)
    for (let s = 0; s < t; s++)
      for (let h = 0; h < heads; h++)
        for (let c = 0; c < dk; c++) y[((b * heads + h) * t + s) * dk + c] = x[(b * t + s) * heads * dk + h * dk + c]!;
  return y;
}

/** (B, h, T, dk) → (B, T, h·dk). */
function mergeHeads(x: Float64Array, batch: number, t: number, heads: number, dk: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < heads; h++)
      for (let s = 0; s < t; s++)
        for (let c = 0; c < dk; c++) y[(b * t + s) * heads * dk + h * dk + c] = x[((b * heads + h) * t + s) * dk + c]!;
  return y;
}

function addInto(target: Float64Array, ...terms: Float64Array[]): Float64Array {
  for (const term of terms) for (let i = 0; i < target.length; i++) target[i]! += term[i]!;
  return target;
}

/**
 * One Transformer block on x (B, T, d); `get(name)` returns the block's weight by its block-relative key
 * (attn.q_proj.weight, ln1.weight, ...). Follows config.norm and config.parallel like the graph block.
 */
export function referenceTransformerBlock(
  config: TransformerConfig, get: (name: string) => Numeric, x: Numeric, batch: number, t: number,
): Float64Array {
  const { dModel: d, dFf, numHeads, rmsNormEps: eps } = config;
  const rows = batch * t;
  const attn = (input: Numeric): Float64Array =>
    referenceMultiHeadSelfAttention(input, {
      q: get('attn.q_proj.weight'), k: get('attn.k_proj.weight'), v: get('attn.v_proj.weight'), output: get('attn.output_proj.weight'),
    }, batch, t, d, numHeads);
  const ffn = (input: Numeric): Float64Array => referenceFeedForward(input, get('ffn.w1.weight'), get('ffn.w2.weight'), rows, d, dFf);
  const norm = (name: string, input: Numeric): Float64Array =>
    config.norm === 'none' ? Float64Array.from(input) : referenceRmsNorm(input, get(name), rows, d, eps);
  const residual = Float64Array.from(x);
  if (config.norm === 'post') {
    const h = norm('ln1.weight', addInto(residual, attn(x)));
    return norm('ln2.weight', addInto(Float64Array.from(h), ffn(h)));
  }
  if (config.parallel) return addInto(residual, attn(norm('ln1.weight', x)), ffn(norm('ln2.weight', x)));
  const h = addInto(residual, attn(norm('ln1.weight', x)));
  return addInto(Float64Array.from(h), ffn(norm('ln2.weight', h)));
}

/**
 * The whole LM: ids (B, T) → logits (B, T, V) in float64. Weights are keyed by state-dict name; with
 * tieEmbeddings the head reuses token_embeddings.weight.
 */
export function referenceTransformerLm(
  config: Partial<TransformerConfig>,
  weights: Readonly<Record<string, WeightArray>>,
  ids: ArrayLike<number | bigint>,
  batch: number,
  seqLen: number,
): Float64Array {
  const c = resolveTransformerConfig(config);
  checkWeights('referenceTransformerLm', transformerParameters(c), weights);
  checkTokenIds('referenceTransformerLm', c, ids, batch, seqLen);
  const d = c.dModel, rows = batch * seqLen;
  const tokens = weights['token_embeddings.weight']!, positions = weights['position_embeddings.weight']!;
  let x: Float64Array = new Float64Array(rows * d);
  for (let b = 0; b < batch; b++)
    for (let s = 0; s < seqLen; s++) {
      const id = Number(ids[b * seqLen + s]!);
      for (let i = 0; i < d; i++) x[(b * seqLen + s) * d + i] = tokens[id * d + i]! + positions[s * d + i]!;
    }
  for (let layer = 0; layer < c.numLayers; layer++) {
    x = referenceTransformerBlock(c, (name) => weights[`layers.${layer}.${name}`]!, x, batch, seqLen);
  }
  if (c.norm !== 'none') x = referenceRmsNorm(x, weights['ln_final.weight']!, rows, d, c.rmsNormEps);
  const head = c.tieEmbeddings ? tokens : weights['lm_head.weight']!;
  return referenceLinear(x, head, rows, d, c.vocabSize);
}

/** Throws naming the problem when ids do not fit (B, T), T exceeds contextLength, or an id is outside [0, V). */
export function checkTokenIds(
  what: string, config: TransformerConfig, ids: ArrayLike<number | bigint>, batch: number, seqLen: number,
): void {
  if (ids.length !== batch * seqLen) {
    throw new Error(`${what}: got ${ids.length} token ids but batch × seqLen = ${batch} × ${seqLen} = ${batch * seqLen}`);
  }
  if (seqLen > config.contextLength) {
    throw new Error(`${what}: sequence length ${seqLen} exceeds contextLength ${config.contextLength}; truncate the input or raise contextLength`);
  }
  for (let i = 0; i < ids.length; i++) {
    const id = Number(ids[i]!);
    if (!Number.isInteger(id) || id < 0 || id >= config.vocabSize) {
      throw new Error(`${what}: token id ${ids[i]} at position ${i} is outside the vocabulary [0, ${config.vocabSize})`);
    }
  }
}

