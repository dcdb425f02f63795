/**
 * Cross-entropy of logits against integer targets, averaged over every batch dimension:
 *   ℓ = mean over positions of ( logsumexp(o) − o[target] ).
 * Subtracting the row maximum before exponentiating keeps exp() from overflowing (logits ×1000 stay finite).
 */
import type { FloatArray } from './float-array.js';

export type TargetArray = ArrayLike<number> | BigInt64Array | Int32Array;

/**
 * logits: row-major, shape (...batch, vocab) given by `dims`; targets: one id per batch position.
 * Returns the mean loss as a float64 number.
 */
export function crossEntropy(logits: FloatArray, dims: readonly number[], targets: TargetArray): number {
  if (dims.length < 1) throw new Error('crossEntropy: logits need at least one dimension (vocab); got dims []');
  const vocab = dims[dims.length - 1]!;
  const rows = dims.slice(0, -1).reduce((a, b) => a * b, 1);
  if (rows * vocab !== logits.length) {
    throw new Error(`crossEntropy: dims [${dims.join(', ')}] describe ${rows * vocab} logits but the array has ${logits.length}`);
  }
  if (targets.length !== rows) {
    throw new Error(`crossEntropy: expected ${rows} targets (one per batch position of dims [${dims.join(', ')}]), got ${targets.length}`);
  }
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const target = Number(targets[r]!);
    if (!Number.isInteger(target) || target < 0 || target >= vocab) {
      throw new Error(`crossEntropy: target ${targets[r]} at position ${r} is not a class id in [0, ${vocab})`);
    }
    const base = r * vocab;
    let max = -Infinity;
    for (let j = 0; j < vocab; j++) max = Math.max(max, logits[base + j]!);
    let sum = 0;
    for (let j = 0; j < vocab; j++) sum += Math.exp(logits[base + j]! - max);
    total += Math.log(sum) + max - logits[base + target]!;
  }
  return total / rows;
}
