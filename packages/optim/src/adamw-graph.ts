/**
 * AdamW (the handout's Algorithm 1) as a graph fragment, ORT-training style: the step t (int64, ≥ 1) and the
 * learning rate are graph inputs, so the schedule stays on the host. Returns the new parameters and moments.
 * The bias correction α_t = α·sqrt(1−β2^t)/(1−β1^t) is worked out in float64 even for float32 parameters:
 * β2^t in float32 would drift by ~1e-5 relative after a thousand steps.
 *
 * Every per-step constant is folded into a scalar once, so each element costs 13 passes instead of 14
 * (15 with clipping's own pass over the gradients):
 *   m' = β1·m + [(1−β1)·s]·g            v' = β2·v + [(1−β2)·s²]·g²
 *   θ̃ = θ − α_t·m'/(√v' + ε)            θ' = θ̃ − [αλ]·θ̃
 * where s is an optional gradient scale (global-norm clipping's factor), applied here rather than as a
 * separate pass over every gradient. The decay stays a subtraction: θ̃·(1 − αλ) with 1 − αλ rounded to
 * float32 would carry a ~1e-7 absolute error in the factor, i.e. ~1e-3 relative in the decay itself.
 */
import { add, cast, div, mul, pow, sqrt, sub, type Value } from '@cs336/graph';
import type { AdamWConfig } from './adamw.js';

export interface AdamWGraphState {
  params: Value[];
  m: Value[];
  v: Value[];
}

/**
 * params/grads/m/v line up one to one (a null gradient leaves that parameter and its moments unchanged);
 * step: int64 scalar t of this update; lr: scalar α in the parameters' dtype (or float64);
 * gradScale: optional scalar s that every gradient is multiplied by first (e.g. clipGradientScale's).
 */
export function adamwGraph(
  state: AdamWGraphState, grads: readonly (Value | null | undefined)[], step: Value, lr: Value, config: AdamWConfig, gradScale?: Value,
): AdamWGraphState {
  const { params, m, v } = state;
  if (grads.length !== params.length || m.length !== params.length || v.length !== params.length) {
    throw new Error(`adamwGraph: got ${params.length} params, ${grads.length} grads, ${m.length} first and ${v.length} second moments; they must line up`);
  }
  const t = cast(step, 'float64');
  const lr64 = cast(lr, 'float64');
  const stepSize64 = div(mul(lr64, sqrt(sub(1, pow(config.beta2, t)))), sub(1, pow(config.beta1, t))); // α_t
  const decay64 = mul(lr64, config.weightDecay); // αλ
  const s64 = gradScale ? cast(gradScale, 'float64') : undefined;
  const firstScale64 = s64 ? mul(s64, 1 - config.beta1) : undefined;
  const secondScale64 = s64 ? mul(mul(s64, s64), 1 - config.beta2) : undefined;
  const scalars = new Map<string, { decay: Value; step: Value; first: Value | number; second: Value | number }>();
  const scalarsFor = (dtype: Value['dtype']) => {
    let found = scalars.get(dtype);
    if (!found) {
      found = {
        decay: cast(decay64, dtype),
        step: cast(stepSize64, dtype),
        first: firstScale64 ? cast(firstScale64, dtype) : 1 - config.beta1,
        second: secondScale64 ? cast(secondScale64, dtype) : 1 - config.beta2,
      };
      scalars.set(dtype, found);
    }
    return found;
  };
  const out: AdamWGraphState = { params: [], m: [], v: [] };
  params.forEach((p, i) => {
    const g = grads[i];
    if (!g) {
      out.params.push(p);
      out.m.push(m[i]!);
      out.v.push(v[i]!);
      return;
    }
    const c = scalarsFor(p.dtype);
    const mi = add(mul(m[i]!, config.beta1), mul(g, c.first));
    const vi = add(mul(v[i]!, config.beta2), mul(mul(g, g), c.second));
    const direction = div(mi, add(sqrt(vi), config.eps));
    const updated = sub(p, mul(direction, c.step));
    out.params.push(sub(updated, mul(updated, c.decay)));
    out.m.push(mi);
    out.v.push(vi);
  });
  return out;
}
