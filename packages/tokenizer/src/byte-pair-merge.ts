/**
 * The BPE merge loop over one pre-token: start from one token per byte and repeatedly merge the
 * adjacent pair with the lowest merge rank (leftmost first on ties) until no pair is a merge.
 *
 * Two implementations of the same loop, as tiktoken does:
 * - short pieces (almost all of them: English pre-tokens are a few bytes) use a linear scan over a
 *   small array of pair ranks. Each merge costs O(n) for the scan and the shift, but n is tiny and the
 *   arrays stay in cache, which beats any pointer structure.
 * - long pieces (long runs of digits, punctuation or whitespace, words in scripts GPT-2 barely merges)
 *   would make that O(n²); they use a min-heap of (rank, position) over a linked list, O(n log n).
 *   Stale heap entries are skipped when popped rather than removed.
 */

/** Sentinel rank: "this adjacent pair is not a merge". */
const NO_MERGE = 0x7fffffff;

/** Pieces up to this many bytes use the linear scan; longer ones the heap. */
export const LINEAR_MERGE_MAX_BYTES = 128;

/**
 * (left id, right id) → merge rank, as an open-addressing hash table over typed arrays.
 * A JS Map keyed by `left * 2^17 + right` would hash heap numbers once ids pass 2^14; this stays
 * in small integers and never allocates on lookup.
 */
export class MergeTable {
  private readonly lefts: Int32Array;
  private readonly rights: Int32Array;
  private readonly ranks: Int32Array;
  private readonly mask: number;
  /** `mergedId[rank]` is the token id the merge of that rank produces. */
  readonly mergedId: Int32Array;

  /**
   * `triples` holds (left id, right id, merged id) for rank 0, 1, ...; a repeated pair keeps its
   * first (lowest) rank.
   */
  constructor(triples: Int32Array) {
    const count = triples.length / 3;
    let capacity = 16;
    while (capacity < count * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.lefts = new Int32Array(capacity).fill(-1);
    this.rights = new Int32Array(capacity);
    this.ranks = new Int32Array(capacity);
    this.mergedId = new Int32Array(count);
    for (let rank = 0; rank < count; rank++) {
      const left = triples[3 * rank]!;
      const right = triples[3 * rank + 1]!;
      this.mergedId[rank] = triples[3 * rank + 2]!;
      let slot = hashPair(left, right) & this.mask;
      while (this.lefts[slot] !== -1 && !(this.lefts[slot] === left && this.rights[slot] === right)) slot = (slot + 1) & this.mask;
      if (this.lefts[slot] !== -1) continue;
      this.lefts[slot] = left;
      this.rights[slot] = right;
      this.ranks[slot] = rank;
    }
  }

  /** The merge rank of (left, right), or NO_MERGE. */
  rank(left: number, right: number): number {
    const lefts = this.lefts;
    let slot = hashPair(left, right) & this.mask;
    for (;;) {
      const key = lefts[slot]!;
      if (key === left && this.rights[slot] === right) return this.ranks[slot]!;
      if (key === -1) return NO_MERGE;
      slot = (slot + 1) & this.mask;
    }
  }
}

function hashPair(left: number, right: number): number {
  const h = Math.imul(left, 0x9e3779b1) ^ right;
  return Math.imul(h ^ (h >>> 15), 0x85ebca6b) >>> 0;
}

/** Scratch space reused across calls so the hot path does not allocate. */
export class MergeScratch {
  ids = new Int32Array(256);
  ranks = new Int32Array(256);
  next = new Int32Array(256);
  prev = new Int32Array(256);
  // Each merge pushes at most two entries: n initial + 2(n - 1) ≤ 3n.
  heap = new Float64Array(768);

  ensure(n: number): void {
    if (this.ids.length >= n) return;
    let size = this.ids.length;
    while (size < n) size *= 2;
    this.ids = new Int32Array(size);
    this.ranks = new Int32Array(size);
    this.next = new Int32Array(size);
    this.prev = new Int32Array(size);
    this.heap = new Float64Array(size * 3);
  }
}

/**
 * Merges `scratch.ids[0..n)` (single-byte token ids) in place and returns how many ids remain in
 * `scratch.ids[0..result)`.
 */
export function bytePairMerge(table: MergeTable, scratch: MergeScratch, n: number, linearMaxBytes = LINEAR_MERGE_MAX_BYTES): number {
  if (n < 2) return n;
  return n <= linearMaxBytes ? mergeLinear(table, scratch, n) : mergeWithHeap(table, scratch, n);
}

function mergeLinear(table: MergeTable, scratch: MergeScratch, n: number): number {
  const ids = scratch.ids;
  const ranks = scratch.ranks; // ranks[i] = rank of the pair (ids[i], ids[i + 1])
  const mergedId = table.mergedId;
  for (let i = 0; i < n - 1; i++) ranks[i] = table.rank(ids[i]!, ids[i + 1]!);
  let length = n;
  for (;;) {
    let best = NO_MERGE;
    let at = -1;
    for (let i = 0; i < length - 1; i++) {
      const rank = ranks[i]!;
      if (rank < best) {
        best = rank;
        at = i;
      }
    }
    if (at < 0) return length;
    ids[at] = mergedId[best]!;
    // Drop ids[at + 1]; the pair ranks to its right shift left with it.
    for (let j = at + 1; j < length - 1; j++) {
      ids[j] = ids[j + 1]!;
      ranks[j] = ranks[j + 1]!;
    }
    length--;
    ranks[at] = at + 1 < length ? table.rank(ids[at]!, ids[at + 1]!) : NO_MERGE;
    if (at > 0) ranks[at - 1] = table.rank(ids[at - 1]!, ids[at]!);
  }
}

// Heap keys pack (rank, position) into one double so that comparing keys orders by rank, then by
// position: the same leftmost-lowest choice the linear scan makes.
const POSITION_SPAN = 2 ** 32;

function mergeWithHeap(table: MergeTable, scratch: MergeScratch, n: number): number {
  const { ids, ranks, next, prev, heap } = scratch;
  const mergedId = table.mergedId;
  let heapSize = 0;
  const push = (key: number) => {
    let i = heapSize++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! <= key) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = key;
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap[--heapSize]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= heapSize) break;
      if (child + 1 < heapSize && heap[child + 1]! < heap[child]!) child++;
      if (heap[child]! >= last) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  };

  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
    ranks[i] = i + 1 < n ? table.rank(ids[i]!, ids[i + 1]!) : NO_MERGE;
    if (ranks[i] !== NO_MERGE) push(ranks[i]! * POSITION_SPAN + i);
  }
  while (heapSize > 0) {
    const key = pop();
    const rank = Math.floor(key / POSITION_SPAN);
    const at = key - rank * POSITION_SPAN;
    // Stale entry: the pair starting at `at` has changed (or `at` was merged away) since the push.
    if (ranks[at] !== rank) continue;
    const right = next[at]!;
    ids[at] = mergedId[rank]!;
    const after = next[right]!;
    next[at] = after;
    if (after >= 0) prev[after] = at;
    ranks[right] = NO_MERGE;
    ranks[at] = after >= 0 ? table.rank(ids[at]!, ids[after]!) : NO_MERGE;
    if (ranks[at] !== NO_MERGE) push(ranks[at]! * POSITION_SPAN + at);
    const before = prev[at]!;
    if (before >= 0) {
      ranks[before] = table.rank(ids[before]!, ids[at]!);
      if (ranks[before] !== NO_MERGE) push(ranks[before]! * POSITION_SPAN + before);
    }
  }
  let length = 0;
  for (let i = 0; i >= 0; i = next[i]!) ids[length++] = ids[i]!;
  return length;
}
