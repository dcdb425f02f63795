/**
 * Global-norm gradient clipping as a graph fragment (ORT's ClipGradNorm shape: global L2 → +ε → divide →
 * clip → multiply). Missing gradients (null) are skipped and come back as null.
 */
import { add, div, greater, mul, reduceSum, sqrt, sum, where, type Value } from '@cs336/graph';
import { CLIP_GRADIENT_EPS } from './clip-gradients.js';

export interface ClippedGradients {
  gradients: (Value | null)[];
  /** The global L2 norm before clipping (scalar). */
  norm: Value;
}

export function clipGradientsGraph(gradients: readonly (Value | null | undefined)[], maxNorm: number | Value, eps = CLIP_GRADIENT_EPS): ClippedGradients {
  const { scale, norm } = clipGradientScale(gradients, maxNorm, eps);
  return { gradients: gradients.map((g) => (g ? mul(g, scale) : null)), norm };
}

/**
 * Just the clipping factor (scalar, 1 unless the norm is too large) and the norm, for a consumer that
 * folds the factor into its own scalars (adamwGraph's gradScale) instead of a pass over every gradient.
 */
export function clipGradientScale(gradients: readonly (Value | null | undefined)[], maxNorm: number | Value, eps = CLIP_GRADIENT_EPS): { scale: Value; norm: Value } {
  const present = gradients.filter((g): g is Value => !!g);
  if (present.length === 0) throw new Error('clipGradientsGraph: every gradient is missing; pass at least one gradient Value');
  const norm = sqrt(sum(present.map((g) => reduceSum(mul(g, g), undefined, false)))); // ()
  const max = typeof maxNorm === 'number' ? present[0]!.graph.constant(maxNorm, present[0]!.dtype) : maxNorm;
  const scale = where(greater(norm, max), div(max, add(norm, eps)), 1); // () — 1 unless the norm is too large
  return { scale, norm };
}
