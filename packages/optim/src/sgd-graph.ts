/** SGD as a graph fragment: θ ← θ − lr·g, with lr a scalar graph input (decay schedules stay on the host). */
import { cast, mul, sub, type Value } from '@cs336/graph';

/** Returns the updated parameters; a null gradient leaves its parameter unchanged. */
export function sgdGraph(params: readonly Value[], grads: readonly (Value | null | undefined)[], lr: Value): Value[] {
  if (grads.length !== params.length) throw new Error(`sgdGraph: got ${params.length} params but ${grads.length} grads; pass one (or null) per param`);
  return params.map((p, i) => {
    const g = grads[i];
    return g ? sub(p, mul(g, lr.dtype === p.dtype ? lr : cast(lr, p.dtype))) : p;
  });
}
