/**
 * Scaled dot-product attention and causal multi-head self-attention (Vaswani et al. 2017, CS336 §3.5).
 * Shapes: B batch, T sequence, h heads, dk = dModel/h. Mask convention (the course's): true = masked OUT.
 */
import {
  add, cast, concat, constantOfShape, div, equal, greater, hostTensor, matMul, reshape, shapeTensor, softmax, split, squeeze, transpose, trilu, unsqueeze,
  where, type Dim, type Value,
} from '@cs336/graph';
import { castTo, maybeDropout, type ForwardOptions, type KeysValues } from './forward-options.js';
import { linear } from './linear.js';
import { causalMask } from './reference-transformer.js';

export interface AttentionOptions extends ForwardOptions {
  /** Dropout on the attention probabilities (training only). */
  attnPdrop?: number;
  /**
   * Incremental decoding for this layer: with `past`, x is one new token that attends to the past keys
   * and values and its own; the keys and values used (past + new, or the whole sequence's without
   * `past`) are stored in `present`. With `writeAt` (int64 [1]), `past` is a preallocated cache of
   * static length Tmax: the new keys and values go to slot writeAt and the slots after it are masked.
   */
  kv?: { past?: KeysValues; present?: KeysValues; writeAt?: Value };
}

/**
 * softmax(Q Kᵀ / √dk, masked positions −∞) V.
 * q (..., Tq, dk), k (..., Tk, dk), v (..., Tk, dv); mask bool broadcastable to (..., Tq, Tk), true = masked out.
 */
export function scaledDotProductAttention(q: Value, k: Value, v: Value, mask?: Value, options: AttentionOptions = {}): Value {
  const dk = q.shape[q.shape.length - 1];
  if (typeof dk !== 'number') throw new Error(`scaledDotProductAttention: the key size (last dim of q ${q.name}) must be static, got '${dk}'`);
  if (mask && mask.dtype !== 'bool') throw new Error(`scaledDotProductAttention: mask must be bool (true = masked out), got ${mask.dtype}; cast it with cast(mask, 'bool')`);
  const rank = k.shape.length;
  const perm = [...Array(rank - 2).keys(), rank - 1, rank - 2];
  let scores = div(matMul(q, transpose(k, perm)), Math.sqrt(dk)); // (..., Tq, Tk)
  // The mask becomes an additive bias (0 kept, −∞ masked) built on the mask's own, small shape: Add's
  // gradient is dy itself, where Where's costs a select over every score in the backward pass.
  if (mask) scores = add(scores, where(mask, negativeInfinity(scores), 0));
  // ORT's fused Softmax, not softmax.ts's five primitives: autodiff through those (ReduceMax's tie mask
  // included) costs about a dozen passes over the (..., Tq, Tk) scores; this rule costs four.
  const probabilities = maybeDropout(attentionSoftmax(scores), options.attnPdrop ?? 0, options);
  return matMul(probabilities, v); // (..., Tq, dv)
}

/** Softmax over the last axis; float16 scores (mixed precision) are normalised in float32, as torch autocast does. */
function attentionSoftmax(scores: Value): Value {
  if (scores.dtype !== 'float16') return softmax(scores, -1);
  return castTo(softmax(castTo(scores, 'float32'), -1), 'float16');
}

function negativeInfinity(like: Value): Value {
  return like.graph.constant(hostTensor(like.dtype, [], [-Infinity]));
}

/** The (T, T) causal mask for sequences shaped like x (B, T, ...): true above the diagonal. */
export function causalMaskFor(x: Value): Value {
  const t: Dim = x.shape[1]!;
  if (typeof t === 'number') return x.graph.constant(hostTensor('bool', [t, t], causalMask(t)));
  const ones = constantOfShape(shapeTensor(x.graph, [t, t], [x]), 1, 'int64');
  return cast(trilu(ones, true, 1), 'bool');
}

export interface AttentionWeights {
  /** Each (dModel, dModel); rows h·dk … (h+1)·dk − 1 belong to head h. */
  q: Value;
  k: Value;
  v: Value;
  output: Value;
}

/** Causal multi-head self-attention: x (B, T, dModel) → (B, T, dModel). */
export function multiHeadSelfAttention(x: Value, weights: AttentionWeights, numHeads: number, options: AttentionOptions = {}): Value {
  const dModel = x.shape[2];
  if (typeof dModel !== 'number' || dModel % numHeads !== 0) {
    throw new Error(`multiHeadSelfAttention: dModel (${String(dModel)}) must be a static multiple of numHeads (${numHeads})`);
  }
  const dk = dModel / numHeads;
  // One fused projection, then split: (B, T, 3·dModel) → (3, B, h, T, dk).
  const qkv = linear(x, concat([weights.q, weights.k, weights.v], 0));
  const heads = transpose(reshape(qkv, [0, 0, 3, numHeads, dk]), [2, 0, 3, 1, 4]);
  // Split, not three Slices: its gradient is one Concat, where each Slice's is a Pad to full size and a Sum.
  const [q, newK, newV] = split(heads, [1, 1, 1], 0).map((part) => squeeze(part, [0])) as [Value, Value, Value]; // (B, h, T, dk)
  const past = options.kv?.past;
  if (past && x.shape[1] !== 1) throw new Error(`multiHeadSelfAttention: with a KV cache the input must be one token (B, 1, dModel), got T = ${String(x.shape[1])}`);
  // With a growing cache, the one new query sees every cached position and its own: nothing to mask.
  let k = past ? concat([past.k, newK], 2) : newK;
  let v = past ? concat([past.v, newV], 2) : newV;
  let mask = past ? undefined : causalMaskFor(x);
  const at = options.kv?.writeAt;
  if (past && at) {
    const slots = past.k.shape[2];
    if (typeof slots !== 'number') throw new Error(`multiHeadSelfAttention: a fixed KV cache needs a static length, got ${String(slots)}`);
    const slot = x.graph.constant(hostTensor('int64', [slots], Array.from({ length: slots }, (_, i) => i)));
    const here = unsqueeze(equal(slot, at), [1]); // (Tmax, 1): broadcasts over (B, h, Tmax, dk)
    k = where(here, newK, past.k);
    v = where(here, newV, past.v);
    mask = greater(slot, at); // (Tmax): the slots not written yet
  }
  if (options.kv) options.kv.present = { k, v };
  const attended = scaledDotProductAttention(q, k, v, mask, options); // (B, h, T, dk)
  const merged = reshape(transpose(attended, [0, 2, 1, 3]), [0, 0, dModel]); // (B, T, dModel)
  return linear(merged, weights.output);
}
