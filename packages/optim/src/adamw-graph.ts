/**
 * AdamW (the handout's Algorithm 1) as a graph fragment, ORT-training style: the step t (int64, ≥ 1) and the
 * learning rate are graph inputs, so the schedule stays on the host. Returns the new parameters and moments.
 * The bias correction α_t = α·sqrt(1−β2^t)/(1−β1^t) is worked out in float64 even for float32 parameters:
 * β2^t in float32 would drift by ~1e-5 relative after a thousand steps.
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
 * step: int64 scalar t of this update; lr: scalar α in the parameters' dtype (or float64).
 */
export function adamwGraph(
  state: AdamWGraphState, grads: readonly (Value | null | undefined)[], step: Value, lr: Value, config: AdamWConfig,
): AdamWGraphState {
  const { params, m, v } = state;
  if (grads.length !== params.length || m.length !== params.length || v.length !== params.length) {
    throw new Error(`adamwGraph: got ${params.length} params, ${grads.length} grads, ${m.length} first and ${v.length} second moments; they must line up`);
  }
  const t = cast(step, 'float64');
  const lr64 = cast(lr, 'float64');
  const stepSize64 = div(mul(lr64, sqrt(sub(1, pow(config.beta2, t)))), sub(1, pow(config.beta1, t))); // α_t
  const decay64 = mul(lr64, config.weightDecay); // α·λ
  const out: AdamWGraphState = { params: [], m: [], v: [] };
  params.forEach((p, i) => {
    const g = grads[i];
    if (!g) {
      out.params.push(p);
      out.m.push(m[i]!);
      out.v.push(v[i]!);
      return;
    }
    const mi = add(mul(m[i]!, config.beta1), mul(g, 1 - config.beta1));
    const vi = add(mul(v[i]!, config.beta2), mul(mul(g, g), 1 - config.beta2));
    const stepSize = cast(stepSize64, p.dtype);
    const updated = sub(p, div(mul(mi, stepSize), add(sqrt(vi), config.eps)));
    out.params.push(sub(updated, mul(updated, cast(decay64, p.dtype))));
    out.m.push(mi);
    out.v.push(vi);
  });
  return out;
}
