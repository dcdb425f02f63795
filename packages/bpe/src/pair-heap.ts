/**
 * A max-heap of (pair key, count) entries with lazy deletion: entries are never updated in place.
 * The trainer re-checks a popped entry against the live count and re-pushes it when stale, which
 * is valid because a pair's live count only grows in the merge that creates it (when it is pushed).
 *
 * Typed arrays, not JS arrays: at OWT scale the heap holds every pair not yet popped (tens of
 * millions); 12 bytes an entry with 32-bit keys (16 with 64-bit float keys) off the V8 heap,
 * growing by half, where two arrays of doubles took 16 bytes plus growth on the V8 heap.
 */
export class PairHeap {
  private keys: Uint32Array | Float64Array;
  private counts: Float64Array;
  private used = 0;

  /**
   * `before(keyA, countA, keyB, countB)` > 0 when A should come out first. `narrowKeys`: keys are
   * below 2^32 (checked on push).
   */
  constructor(private readonly before: (keyA: number, countA: number, keyB: number, countB: number) => number, private readonly narrowKeys = false, initialCapacity = 1 << 10) {
    this.keys = narrowKeys ? new Uint32Array(initialCapacity) : new Float64Array(initialCapacity);
    this.counts = new Float64Array(initialCapacity);
  }

  get size(): number {
    return this.used;
  }

  /** Bytes of the entry arrays (for the memory table in the README). */
  get byteLength(): number {
    return this.keys.byteLength + this.counts.byteLength;
  }

  peekKey(): number {
    return this.keys[0]!;
  }

  peekCount(): number {
    return this.counts[0]!;
  }

  push(key: number, count: number): void {
    if (this.used === this.keys.length) this.grow();
    if (this.narrowKeys && !(key >= 0 && key < 2 ** 32)) throw new Error(`PairHeap: key ${key} does not fit 32 bits`);
    this.keys[this.used] = key;
    this.counts[this.used] = count;
    this.siftUp(this.used++);
  }

  pop(): void {
    if (this.used === 0) return;
    this.used--;
    if (this.used === 0) return;
    this.keys[0] = this.keys[this.used]!;
    this.counts[0] = this.counts[this.used]!;
    this.siftDown(0);
  }

  private grow(): void {
    const capacity = Math.max(16, Math.ceil(this.keys.length * 1.5));
    const keys = this.narrowKeys ? new Uint32Array(capacity) : new Float64Array(capacity);
    keys.set(this.keys);
    const counts = new Float64Array(capacity);
    counts.set(this.counts);
    this.keys = keys;
    this.counts = counts;
  }

  private siftUp(i: number): void {
    const { keys, counts } = this;
    const key = keys[i]!;
    const count = counts[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!(this.before(key, count, keys[parent]!, counts[parent]!) > 0)) break;
      keys[i] = keys[parent]!;
      counts[i] = counts[parent]!;
      i = parent;
    }
    keys[i] = key;
    counts[i] = count;
  }

  private siftDown(i: number): void {
    const { keys, counts } = this;
    const n = this.used;
    const key = keys[i]!;
    const count = counts[i]!;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.before(keys[right]!, counts[right]!, keys[left]!, counts[left]!) > 0 ? right : left;
      if (!(this.before(keys[child]!, counts[child]!, key, count) > 0)) break;
      keys[i] = keys[child]!;
      counts[i] = counts[child]!;
      i = child;
    }
    keys[i] = key;
    counts[i] = count;
  }
}
