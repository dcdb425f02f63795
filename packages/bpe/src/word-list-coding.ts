/**
 * Ascending word-id lists, delta + varint coded, for the trainer's "which words contain this"
 * index (the byte pairs' CSR array and the merged symbols' lists in train-bpe.ts).
 *
 * Why: that index holds about one entry per byte of the distinct pre-tokens, the largest part of
 * training memory at OpenWebText scale. Its lists are built by walking words in increasing order,
 * so they are sorted; storing each id as its gap from the previous one (minus one, so a run of
 * consecutive words codes as zeros) in LEB128 (7 bits a byte, the high bit set on every byte but
 * the last) takes 1–2 bytes where an Int32Array takes 4. The first gap is from -1.
 *
 * The merge loop decodes inline (a call per id costs there); `decodeWordList` is the same loop,
 * for tests and the readable statement of the format.
 */

/** Bytes `writeVarint` uses for `value` (0 ≤ value < 2^31). */
export function varintLength(value: number): number {
  return value < 1 << 7 ? 1 : value < 1 << 14 ? 2 : value < 1 << 21 ? 3 : value < 1 << 28 ? 4 : 5;
}

/** Writes `value` (0 ≤ value < 2^31) at `out[at]`; returns the position after it. */
export function writeVarint(out: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    out[at++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  out[at++] = value;
  return at;
}

/** The ids coded in `bytes[from..to)`. */
export function decodeWordList(bytes: Uint8Array, from = 0, to = bytes.length): number[] {
  const ids: number[] = [];
  let id = -1;
  let at = from;
  while (at < to) {
    let byte = bytes[at++]!;
    let gap = byte & 0x7f;
    for (let shift = 7; byte >= 0x80; shift += 7) {
      byte = bytes[at++]!;
      gap |= (byte & 0x7f) << shift;
    }
    id += gap + 1;
    ids.push(id);
  }
  return ids;
}

/**
 * Builds one list at a time from ascending ids into a reused growable buffer; `take()` returns
 * the list as an exact-size copy and starts the next.
 */
export class WordListWriter {
  private buffer = new Uint8Array(1 << 12);
  private used = 0;
  private last = -1;

  /** Bytes written to the current list. */
  get length(): number {
    return this.used;
  }

  /** Appends `id`, which must be above the last one appended to this list. */
  push(id: number): void {
    if (id <= this.last) throw new Error(`WordListWriter: ids must ascend; got ${id} after ${this.last}`);
    if (this.used + 5 > this.buffer.length) {
      const bigger = new Uint8Array(this.buffer.length * 2);
      bigger.set(this.buffer.subarray(0, this.used));
      this.buffer = bigger;
    }
    this.used = writeVarint(this.buffer, this.used, id - this.last - 1);
    this.last = id;
  }

  /** The current list (a copy of exactly its bytes); the writer starts an empty one. */
  take(): Uint8Array {
    const list = this.buffer.slice(0, this.used);
    this.used = 0;
    this.last = -1;
    return list;
  }
}
