/**
 * erf in float64 from elementary graph ops, for float64 graphs: ORT's CPU provider has an Erf kernel for
 * float32 only. Accurate to ~1e-15 as written (~1e-13 after ORT's 'all'-level graph rewrites) and
 * differentiable by the ordinary gradient rules.
 *
 *   |x| < 3:  erf x = 2/√π · x · e^(−x²) · Σₙ (2x²)ⁿ / (1·3·5···(2n+1))   (all terms positive: no cancellation;
 *             46 terms leave < 1e-17 at |x| = 3), evaluated by Horner's rule in x².
 *   |x| ≥ 3:  erf x = ±(1 − erfc |x|), erfc a = e^(−a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + …)))), 50 levels.
 * Each branch sees a clamped input (so neither overflows), and Where picks one; the other's gradient is zero.
 * The clamps sit half a unit outside the switch point so a selected branch never sits on a Max/Min tie (whose
 * gradient rule splits the gradient between the tied inputs).
 */
import { abs, add, div, exp, less, max, min, mul, neg, sub, where, type Value } from '@cs336/graph';

const SERIES_TERMS = 46;
const FRACTION_LEVELS = 50;
const SWITCH = 3;
const CLAMP_MARGIN = 0.5;

export function erfFloat64(x: Value): Value {
  if (x.dtype !== 'float64') throw new Error(`erfFloat64: expects a float64 tensor, got ${x.dtype} "${x.name}"; use erf() for float32`);
  // Series branch on x clamped to [−3.5, 3.5] (used for |x| < 3).
  const xs = max(min(x, SWITCH + CLAMP_MARGIN), -(SWITCH + CLAMP_MARGIN));
  const y = mul(xs, xs);
  const coefficients = Array.from({ length: SERIES_TERMS }, (_, n) => n).reduce<number[]>((c, n) => {
    c.push(n === 0 ? 1 : (c[n - 1]! * 2) / (2 * n + 1));
    return c;
  }, []);
  let sum: Value | number = coefficients[SERIES_TERMS - 1]!;
  for (let n = SERIES_TERMS - 2; n >= 0; n--) sum = add(mul(y, sum), coefficients[n]!);
  const series = mul(mul(xs, exp(neg(y))), mul(sum as Value, 2 / Math.sqrt(Math.PI)));

  // Continued-fraction branch on |x| clamped to [2.5, ∞) (used for |x| ≥ 3).
  const a = max(abs(x), SWITCH - CLAMP_MARGIN);
  let fraction: Value = a;
  for (let k = FRACTION_LEVELS; k >= 1; k--) fraction = add(a, div(k / 2, fraction));
  const erfc = div(exp(neg(mul(a, a))), mul(fraction, Math.sqrt(Math.PI)));
  const tail = sub(1, erfc);
  return where(less(abs(x), SWITCH), series, where(less(x, 0), neg(tail), tail));
}
