/**
 * GELU(x) = x · Φ(x) = ½·x·(1 + erf(x/√2)), the exact (erf) form, not the tanh approximation.
 * ORT's CPU provider has no float64 Erf kernel, so float64 graphs build erf from elementary ops (erf-float64.ts).
 */
import { add, erf, mul, type Value } from '@cs336/graph';
import { erfFloat64 } from './erf-float64.js';

export function gelu(x: Value): Value {
  const scaled = mul(x, Math.SQRT1_2);
  const phi = x.dtype === 'float64' ? erfFloat64(scaled) : erf(scaled);
  return mul(mul(x, 0.5), add(phi, 1));
}
