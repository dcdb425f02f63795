/** Run-mode switches shared by the graph pieces: dropout is active only when training; the compute dtype. */
import { cast, dropout, type GraphBuilder, type Value } from '@cs336/graph';

/** The dtype the matmuls and activations run in; 'float16' is mixed precision (see ForwardOptions.computeDtype). */
export type ComputeDType = 'float32' | 'float16';

export interface ForwardOptions {
  /** Build the training graph (dropout on). Default false: dropout nodes are left out entirely. */
  training?: boolean;
  /** Base seed for ORT's Dropout nodes; each node gets seed + its index so masks differ between nodes. */
  seed?: number;
  /** Incremental decoding (inference only): see KvCache. */
  kvCache?: KvCache;
  /**
   * Inference: compute the logits at this position only (int64 scalar), giving (B, V) instead of
   * (B, T, V). The final norm and LM head then run on one position, not T: for next-token logits.
   */
  lastPosition?: Value;
  /**
   * Mixed precision: run the matmuls and activations in this dtype while the weights passed stay in
   * theirs (a float32 master copy). transformerLm casts in a few named places: each weight as it is
   * used, the embedding sum once; RMSNorm's statistics and the attention softmax go back to float32
   * inside (rms-norm.ts, attention.ts), and the logits come back in the weights' dtype for the loss.
   * Default: the weights' dtype, no casts.
   */
  computeDtype?: ComputeDType;
}

/** One attention layer's keys and values, each (B, h, T, dk). */
export interface KeysValues {
  k: Value;
  v: Value;
}

/**
 * A KV cache for incremental decoding, as in GPT-2's `past`/`present`. Without `past` (a prefill), the
 * model runs as usual on the whole sequence and records each layer's keys and values in `present`.
 * With `past` (a step), the input is one new token at `position` (int64 [1]); each layer attends from
 * it to its past keys and values plus its own, and `present` holds them extended by that token. The
 * caller owns the object: transformerLm fills `present`.
 */
export interface KvCache {
  past?: readonly KeysValues[];
  position?: Value;
  present: KeysValues[];
  /**
   * 'grow' (default): `past` holds exactly the positions before `position` and `present` appends the
   * new one. 'fixed': `past` is preallocated [B, h, Tmax, dk] (static Tmax), the new keys and values are
   * written at slot `position` and attention ignores the slots after it; `present` has past's shape.
   */
  layout?: 'grow' | 'fixed';
}

const dropoutCounts = new WeakMap<GraphBuilder, number>();

/** Inverted dropout with probability p when training, else x unchanged (no node). */
export function maybeDropout(x: Value, p: number, options: ForwardOptions = {}): Value {
  if (!options.training || p === 0) return x;
  const root = x.graph;
  const index = dropoutCounts.get(root) ?? 0;
  dropoutCounts.set(root, index + 1);
  return dropout(x, p, true, options.seed === undefined ? undefined : options.seed + index);
}

/** x in `dtype` (a Cast node only when it differs); `undefined` leaves x as it is. */
export function castTo(x: Value, dtype: ComputeDType | Value['dtype'] | undefined): Value {
  return dtype === undefined || x.dtype === dtype ? x : cast(x, dtype);
}
