/**
 * Pair → (count, word-list number), for the trainer's merge loop: open addressing over typed arrays.
 *
 * Why not `Map`s: at OWT scale the merges create tens of millions of pairs (every distinct
 * neighbour of every merged symbol); in a `Map` for counts plus one for lists each pair cost about
 * 190 bytes of V8 heap, towards V8's ~4 GB limit. Here a slot is a key, a count and a list number,
 * at most 0.7 full, off the heap: 16 bytes with 32-bit keys (pair numbers below 2^32 - 2, i.e.
 * vocabularies up to 65,535 symbols), 20 with 64-bit float keys (any pair number below 2^53).
 * Pairs are removed when merged or when their count reaches 0 (tombstones, cleared by the next
 * rebuild).
 */

/** Largest pair number a table with 32-bit keys holds (the two values above are its markers). */
export const MAX_NARROW_PAIR = 2 ** 32 - 3;

export class PairTable {
  private keys: Uint32Array | Float64Array; // pair number, `empty` or `deleted`
  private counts: Float64Array;
  private lists: Int32Array; // list number in PairWordLists, or -1
  private mask: number;
  private live = 0;
  private filled = 0; // live + tombstones
  private readonly empty: number;
  private readonly deleted: number; // also the bound: keys below it are live pairs

  /** `narrowKeys`: 32-bit keys, for pair numbers ≤ MAX_NARROW_PAIR (checked on insert). */
  constructor(initialCapacity = 1 << 16, private readonly narrowKeys = false) {
    if (!Number.isInteger(Math.log2(initialCapacity)) || initialCapacity < 2) {
      throw new Error(`PairTable: initialCapacity must be a power of two ≥ 2; got ${initialCapacity}`);
    }
    this.empty = narrowKeys ? 2 ** 32 - 1 : 2 ** 53 - 1;
    this.deleted = this.empty - 1;
    this.keys = this.newKeys(initialCapacity);
    this.counts = new Float64Array(initialCapacity);
    this.lists = new Int32Array(initialCapacity).fill(-1);
    this.mask = initialCapacity - 1;
  }

  get size(): number {
    return this.live;
  }

  /** Bytes of the slot arrays (for the memory table in the README). */
  get byteLength(): number {
    return this.keys.byteLength + this.counts.byteLength + this.lists.byteLength;
  }

  /** The count of `pair`, 0 when absent. */
  count(pair: number): number {
    const slot = this.find(pair);
    return slot < 0 ? 0 : this.counts[slot]!;
  }

  /** The word-list number of `pair`, -1 when absent or without a list. */
  list(pair: number): number {
    const slot = this.find(pair);
    return slot < 0 ? -1 : this.lists[slot]!;
  }

  setList(pair: number, list: number): void {
    const slot = this.find(pair);
    if (slot >= 0) this.lists[slot] = list;
  }

  /**
   * Adds `delta` to the count of `pair` (inserting it); removes the pair when the count reaches 0.
   * Returns the new count (0 when removed, or absent and `delta` ≤ 0).
   */
  add(pair: number, delta: number): number {
    // The markers are numbers too: a key equal to one would match empty or deleted slots.
    if (!(pair >= 0 && pair < this.deleted)) throw this.outOfRange(pair);
    let slot = hashSlot(pair) & this.mask;
    let tombstone = -1;
    for (;;) {
      const key = this.keys[slot]!;
      if (key === pair) {
        const next = this.counts[slot]! + delta;
        if (next > 0) this.counts[slot] = next;
        else this.remove(slot);
        return Math.max(0, next);
      }
      if (key === this.empty) break;
      if (key === this.deleted && tombstone < 0) tombstone = slot;
      slot = (slot + 1) & this.mask;
    }
    if (delta <= 0) return 0; // nothing to take from
    if (!Number.isInteger(pair)) throw this.outOfRange(pair);
    if (tombstone >= 0) slot = tombstone;
    else this.filled++;
    this.keys[slot] = pair;
    this.counts[slot] = delta;
    this.lists[slot] = -1;
    this.live++;
    if (this.filled * 10 > this.keys.length * 7) this.rebuild(); // linear probing stays short below 0.7
    return delta;
  }

  delete(pair: number): void {
    const slot = this.find(pair);
    if (slot >= 0) this.remove(slot);
  }

  forEach(visit: (pair: number, count: number) => void): void {
    for (let slot = 0; slot < this.keys.length; slot++) if (this.keys[slot]! < this.deleted) visit(this.keys[slot]!, this.counts[slot]!);
  }

  private outOfRange(pair: number): Error {
    return new Error(`PairTable: pair number ${pair} is outside 0..${this.deleted - 1} for ${this.narrowKeys ? '32-bit' : '64-bit'} keys`);
  }

  private newKeys(capacity: number): Uint32Array | Float64Array {
    return (this.narrowKeys ? new Uint32Array(capacity) : new Float64Array(capacity)).fill(this.empty);
  }

  private find(pair: number): number {
    let slot = hashSlot(pair) & this.mask;
    for (;;) {
      const key = this.keys[slot]!;
      if (key === pair) return slot;
      if (key === this.empty) return -1;
      slot = (slot + 1) & this.mask;
    }
  }

  private remove(slot: number): void {
    this.keys[slot] = this.deleted;
    this.counts[slot] = 0;
    this.lists[slot] = -1;
    this.live--;
  }

  /** Re-inserts the live pairs into a table sized for them (dropping tombstones). */
  private rebuild(): void {
    let capacity = this.keys.length;
    while (this.live * 2 > capacity) capacity *= 2; // ≤ half full after, so it lasts a while
    const { keys, counts, lists } = this;
    this.keys = this.newKeys(capacity);
    this.counts = new Float64Array(capacity);
    this.lists = new Int32Array(capacity).fill(-1);
    this.mask = capacity - 1;
    for (let old = 0; old < keys.length; old++) {
      const key = keys[old]!;
      if (key >= this.deleted) continue;
      let slot = hashSlot(key) & this.mask;
      while (this.keys[slot] !== this.empty) slot = (slot + 1) & this.mask;
      this.keys[slot] = key;
      this.counts[slot] = counts[old]!;
      this.lists[slot] = lists[old]!;
    }
    this.filled = this.live;
  }
}

/** Mixes both halves of a pair number (< 2^53) into 32 bits. */
function hashSlot(pair: number): number {
  let h = Math.imul((pair >>> 0) ^ Math.floor(pair / 4294967296), 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}
