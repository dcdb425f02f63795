/** The position-wise feed-forward network: FFN(x) = W2 · GELU(W1 · x), no biases. */
import type { Value } from '@cs336/graph';
import { gelu } from './gelu.js';
import { linear } from './linear.js';

/** x (..., d), w1 (dFf, d), w2 (d, dFf) → (..., d). */
export function feedForward(x: Value, w1: Value, w2: Value): Value {
  return linear(gelu(linear(x, w1)), w2);
}
