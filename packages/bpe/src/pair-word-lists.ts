/**
 * The words that contain each pair made by a merge, for the trainer's pair → words index.
 *
 * A pair that contains a merged symbol is created by that one merge, so its word list is complete
 * when the merge ends and never grows after: lists are appended back to back to one `Int32Array`
 * pool. A list dies when its pair is merged or its count drops to 0; when the pool is full the
 * live lists are first moved down over the dead ones (in place, in order), and the pool grows only
 * if that frees too little, so it stays within about twice the live entries.
 */
export class PairWordLists {
  private pool = new Int32Array(1 << 16);
  private used = 0;
  private readonly listOf = new Map<number, number>(); // pair → list number
  private from: number[] = [];
  private to: number[] = [];
  private keys: number[] = [];

  /** The pool; list `list` is `ids[start(list) .. end(list))`. Valid until the next `append`. */
  get ids(): Int32Array {
    return this.pool;
  }

  /** The list number of `pair`, or -1 when it has none (never made, merged or dropped). */
  find(pair: number): number {
    return this.listOf.get(pair) ?? -1;
  }

  start(list: number): number {
    return this.from[list]!;
  }

  end(list: number): number {
    return this.to[list]!;
  }

  /** Forgets the list of `pair` (merged, or its count is 0). */
  drop(pair: number): void {
    this.listOf.delete(pair);
  }

  append(pair: number, words: readonly number[]): void {
    if (this.used + words.length > this.pool.length) this.makeRoom(words.length);
    this.pool.set(words, this.used);
    this.listOf.set(pair, this.from.length);
    this.from.push(this.used);
    this.used += words.length;
    this.to.push(this.used);
    this.keys.push(pair);
  }

  private makeRoom(needed: number): void {
    // Move the live lists down, renumbering them in the same order.
    const from: number[] = [];
    const to: number[] = [];
    const keys: number[] = [];
    let write = 0;
    for (let list = 0; list < this.keys.length; list++) {
      const pair = this.keys[list]!;
      if (this.listOf.get(pair) !== list) continue;
      const length = this.to[list]! - this.from[list]!;
      this.pool.copyWithin(write, this.from[list]!, this.to[list]!);
      this.listOf.set(pair, keys.length);
      from.push(write);
      write += length;
      to.push(write);
      keys.push(pair);
    }
    this.from = from;
    this.to = to;
    this.keys = keys;
    this.used = write;
    // Grow when the live lists fill more than half, so that moving them stays rare.
    if ((write + needed) * 2 > this.pool.length) {
      const bigger = new Int32Array(Math.max(write + needed, this.pool.length * 2));
      bigger.set(this.pool.subarray(0, write));
      this.pool = bigger;
    }
  }
}
