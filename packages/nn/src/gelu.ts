/**
 * GELU(x) = x · Φ(x) = ½·x·(1 + erf(x/√2)), the exact (erf) form, not the tanh approximation.
 * ORT's CPU provider has no float64 Erf kernel, so float64 graphs take erf through float32; every
 * other op in a float64 graph stays float64.
 */
import { add, cast, erf, mul, type Value } from '@cs336/graph';

export function gelu(x: Value): Value {
  const scaled = mul(x, Math.SQRT1_2);
  const phi = x.dtype === 'float64' ? cast(erf(cast(scaled, 'float32')), 'float64') : erf(scaled);
  return mul(mul(x, 0.5), add(phi, 1));
}
