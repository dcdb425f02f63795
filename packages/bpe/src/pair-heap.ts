/**
 * A max-heap of (pair key, count) entries with lazy deletion: entries are never updated in place.
 * The trainer re-checks a popped entry against the live count and re-pushes it when stale, which
 * is valid because a pair's live count only grows in the merge that creates it (when it is pushed).
 */
export class PairHeap {
  private readonly keys: number[] = [];
  private readonly counts: number[] = [];

  /** `before(keyA, countA, keyB, countB)` > 0 when A should come out first. */
  constructor(private readonly before: (keyA: number, countA: number, keyB: number, countB: number) => number) {}

  get size(): number {
    return this.keys.length;
  }

  peekKey(): number {
    return this.keys[0]!;
  }

  peekCount(): number {
    return this.counts[0]!;
  }

  push(key: number, count: number): void {
    this.keys.push(key);
    this.counts.push(count);
    this.siftUp(this.keys.length - 1);
  }

  pop(): void {
    const lastKey = this.keys.pop()!;
    const lastCount = this.counts.pop()!;
    if (this.keys.length === 0) return;
    this.keys[0] = lastKey;
    this.counts[0] = lastCount;
    this.siftDown(0);
  }

  private higher(i: number, j: number): boolean {
    return this.before(this.keys[i]!, this.counts[i]!, this.keys[j]!, this.counts[j]!) > 0;
  }

  private swap(i: number, j: number): void {
    const k = this.keys[i]!;
    this.keys[i] = this.keys[j]!;
    this.keys[j] = k;
    const c = this.counts[i]!;
    this.counts[i] = this.counts[j]!;
    this.counts[j] = c;
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.higher(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const n = this.keys.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) return;
      const right = left + 1;
      const child = right < n && this.higher(right, left) ? right : left;
      if (!this.higher(child, i)) return;
      this.swap(i, child);
      i = child;
    }
  }
}
