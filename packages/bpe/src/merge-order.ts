/**
 * The CS336 merge order, in one place: the most frequent pair merges first; among pairs with equal
 * counts, the lexicographically greater pair of byte strings wins, compared as a Python tuple
 * `(left, right)` of `bytes` (left first, then right; a proper prefix sorts first).
 */

/** Lexicographic comparison of two byte strings, like Python's `bytes` ordering: <0, 0 or >0. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Tuple order on pairs of byte strings: >0 when (leftA, rightA) > (leftB, rightB). */
export function comparePairs(leftA: Uint8Array, rightA: Uint8Array, leftB: Uint8Array, rightB: Uint8Array): number {
  return compareBytes(leftA, leftB) || compareBytes(rightA, rightB);
}

/** >0 when pair A should merge before pair B: higher count first, then the tie rule above. */
export function compareMergeCandidates(
  countA: number, leftA: Uint8Array, rightA: Uint8Array,
  countB: number, leftB: Uint8Array, rightB: Uint8Array,
): number {
  return countA - countB || comparePairs(leftA, rightA, leftB, rightB);
}
