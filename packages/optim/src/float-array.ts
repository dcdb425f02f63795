/** The parameter/gradient storage the host-side optimizers accept: float32 or float64, updated in place. */
export type FloatArray = Float32Array | Float64Array;

/** Throws unless `params` and `grads` line up one to one with equal lengths (a missing gradient is allowed). */
export function checkParamsAndGrads(
  what: string,
  params: readonly FloatArray[],
  grads: readonly (FloatArray | null | undefined)[],
): void {
  if (params.length !== grads.length) {
    throw new Error(`${what}: got ${params.length} parameters but ${grads.length} gradients; pass one gradient (or null) per parameter`);
  }
  params.forEach((p, i) => {
    const g = grads[i];
    if (g && g.length !== p.length) {
      throw new Error(`${what}: parameter ${i} has ${p.length} elements but its gradient has ${g.length}; they must match`);
    }
  });
}

export function checkPositiveFinite(what: string, name: string, value: number, allowZero = false): void {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new Error(`${what}: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} finite number, got ${value}`);
  }
}
