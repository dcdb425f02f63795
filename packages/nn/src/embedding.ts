/** Embedding lookup: row `id` of the (V, d) table for every id. */
import { gather, type Value } from '@cs336/graph';

/** ids (...) int64, weight (V, d) → (..., d). */
export function embedding(ids: Value, weight: Value): Value {
  return gather(weight, ids, 0);
}
