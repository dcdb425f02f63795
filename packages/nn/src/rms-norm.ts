/**
 * RMSNorm (Zhang & Sennrich 2019): x / sqrt(mean(x²) + ε) · g over the last axis.
 * Computed in the input's dtype, as the course's module does, except for float16 input (mixed
 * precision): the statistics and the division run in float32, since x² overflows float16 above
 * |x| = 256 and ε = 1e-5 lies below its normal range; the result goes back to float16 before the gain.
 */
import { add, div, mul, reduceMean, sqrt, type Value } from '@cs336/graph';
import { castTo } from './forward-options.js';

/** x (..., d), gain (d) → (..., d). */
export function rmsNorm(x: Value, gain: Value, eps = 1e-5): Value {
  const wide = x.dtype === 'float16' ? castTo(x, 'float32') : x;
  const rms = sqrt(add(reduceMean(mul(wide, wide), [-1], true), eps)); // (..., 1)
  return mul(castTo(div(wide, rms), x.dtype), gain);
}
