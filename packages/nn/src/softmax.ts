/**
 * Numerically stable softmax: exp(x − max x) / Σ exp(x − max x). Subtracting the maximum leaves the
 * result unchanged and keeps exp() ≤ 1, so large logits (x + 100, x × 1000) do not overflow.
 */
import { div, exp, reduceMax, reduceSum, sub, type Value } from '@cs336/graph';

export function softmax(x: Value, axis = -1): Value {
  const shifted = exp(sub(x, reduceMax(x, [axis], true)));
  return div(shifted, reduceSum(shifted, [axis], true));
}
