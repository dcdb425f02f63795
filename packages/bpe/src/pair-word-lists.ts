/**
 * The words that contain each tracked pair made by a merge, for the trainer's pair → words index.
 *
 * A pair that contains a merged symbol is created by that one merge, so its word list is complete
 * when the merge ends and never grows after: lists (ascending word ids, delta + varint coded, see
 * word-list-coding.ts) are appended back to back to one byte pool, and the pair's entry in the
 * `PairTable` holds its list number. A list dies with its pair (merged, or its count dropped to
 * 0); when the pool is full the live lists are first moved down over the dead ones (in place, in
 * order), and the pool grows by half only if that frees less than a quarter, so it stays within
 * about 1.5× the live bytes (moving costs at most 4 bytes copied per byte appended).
 */
import type { PairTable } from './pair-table.js';

export class PairWordLists {
  private pool = new Uint8Array(1 << 16);
  private used = 0;
  private lists = 0;
  private from = new Float64Array(1 << 10);
  private to = new Float64Array(1 << 10);
  private pairs = new Float64Array(1 << 10);

  constructor(private readonly table: PairTable) {}

  /** The pool; list `list` is `bytes[start(list) .. end(list))`. Valid until the next `append`. */
  get bytes(): Uint8Array {
    return this.pool;
  }

  /** Bytes of the pool and the list index (for the memory table in the README). */
  get byteLength(): number {
    return this.pool.byteLength + this.from.byteLength * 3;
  }

  start(list: number): number {
    return this.from[list]!;
  }

  end(list: number): number {
    return this.to[list]!;
  }

  /** Stores the coded word list of `pair` (already in the table) and records its list number there. */
  append(pair: number, list: Uint8Array): void {
    if (this.used + list.length > this.pool.length) this.makeRoom(list.length);
    if (this.lists === this.from.length) {
      this.from = grow(this.from, new Float64Array(this.lists * 2));
      this.to = grow(this.to, new Float64Array(this.lists * 2));
      this.pairs = grow(this.pairs, new Float64Array(this.lists * 2));
    }
    this.pool.set(list, this.used);
    this.table.setList(pair, this.lists);
    this.from[this.lists] = this.used;
    this.used += list.length;
    this.to[this.lists] = this.used;
    this.pairs[this.lists++] = pair;
  }

  private makeRoom(needed: number): void {
    // Move the live lists down, renumbering them in the same order.
    let write = 0;
    let kept = 0;
    for (let list = 0; list < this.lists; list++) {
      const pair = this.pairs[list]!;
      if (this.table.list(pair) !== list) continue;
      const from = this.from[list]!;
      const to = this.to[list]!;
      this.pool.copyWithin(write, from, to);
      this.table.setList(pair, kept);
      this.from[kept] = write;
      write += to - from;
      this.to[kept] = write;
      this.pairs[kept++] = pair;
    }
    this.lists = kept;
    this.used = write;
    // Grow when the live lists fill more than 3/4, so that moving them stays rare.
    if ((write + needed) * 4 > this.pool.length * 3) this.pool = grow(this.pool.subarray(0, write), new Uint8Array(Math.max(write + needed, Math.ceil(this.pool.length * 1.5))));
  }
}

function grow<T extends Uint8Array | Float64Array>(old: T, into: T): T {
  into.set(old as never);
  return into;
}
