/**
 * Global-norm gradient clipping as a graph fragment (ORT's ClipGradNorm shape: global L2 → +ε → divide →
 * clip → multiply). Missing gradients (null) are skipped and come back as null.
 */
import { add, cast, div, greater, mul, reduceSum, sqrt, sum, where, type Value } from '@cs336/graph';
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
  const norm = cast(sqrt(sum(present.map(sumOfSquares))), present[0]!.dtype); // ()
  const max = typeof maxNorm === 'number' ? present[0]!.graph.constant(maxNorm, present[0]!.dtype) : maxNorm;
  const scale = where(greater(norm, max), div(max, add(norm, eps)), 1); // () — 1 unless the norm is too large
  return { scale, norm };
}

/**
 * Σ g² of one gradient, in float64. Each row (last axis) is summed in the gradient's precision, then the
 * row sums in float64: ORT's float32 ReduceSum over a whole [10000, 128] LM-head gradient in one pass was
 * off by ~6e-5 relative (rows of 128 and then float32 row sums still by ~7e-6; few rows carry most of the
 * sum). That error moved the clipping factor of every step and set our training curve apart from PyTorch's
 * and float64's in the loss-parity bench (see @cs336/train's README). The float64 part is one value per row.
 */
function sumOfSquares(g: Value): Value {
  const squares = mul(g, g);
  return reduceSum(cast(g.shape.length >= 2 ? reduceSum(squares, [-1], false) : squares, 'float64'), undefined, false);
}
