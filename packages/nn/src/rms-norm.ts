/**
 * RMSNorm (Zhang & Sennrich 2019): x / sqrt(mean(x²) + ε) · g over the last axis.
 * Computed in the input's dtype, as the course's module does.
 */
import { add, div, mul, reduceMean, sqrt, type Value } from '@cs336/graph';

/** x (..., d), gain (d) → (..., d). */
export function rmsNorm(x: Value, gain: Value, eps = 1e-5): Value {
  const rms = sqrt(add(reduceMean(mul(x, x), [-1], true), eps)); // (..., 1)
  return mul(div(x, rms), gain);
}
