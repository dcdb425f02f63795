/**
 * Global-norm gradient clipping: ‖g‖ is the L2 norm over every gradient together; when it exceeds maxNorm,
 * every gradient is scaled by maxNorm/(‖g‖ + ε) (ε = 1e-6, as in the course) so the result sits just under it.
 * Parameters without a gradient (null/undefined) are skipped.
 */
import type { FloatArray } from './float-array.js';

export const CLIP_GRADIENT_EPS = 1e-6;

/** Clips in place; returns the global norm measured before clipping. */
export function clipGradientNorm(
  grads: readonly (FloatArray | null | undefined)[],
  maxNorm: number,
  eps = CLIP_GRADIENT_EPS,
): number {
  if (!Number.isFinite(maxNorm) || maxNorm < 0) throw new Error(`clipGradientNorm: maxNorm must be a non-negative finite number, got ${maxNorm}`);
  let sumOfSquares = 0;
  for (const g of grads) {
    if (!g) continue;
    for (let j = 0; j < g.length; j++) sumOfSquares += g[j]! * g[j]!;
  }
  const norm = Math.sqrt(sumOfSquares);
  if (norm > maxNorm) {
    const scale = maxNorm / (norm + eps);
    for (const g of grads) {
      if (!g) continue;
      for (let j = 0; j < g.length; j++) g[j] = g[j]! * scale;
    }
  }
  return norm;
}
