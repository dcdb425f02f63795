/**
 * Pre-token → count, keyed by the pre-token's UTF-8 bytes, in typed arrays only.
 *
 * Why this shape: at OpenWebText scale there are tens of millions of distinct pre-tokens, and as
 * JS strings in a Map (or a table of string keys) each costs ~80 bytes of V8 heap, which also hits
 * V8's heap limit. Here the keys are appended back to back to one byte arena; an entry is an arena
 * offset, a hash and a count (16 bytes), and the open-addressing slots hold entry numbers (4 bytes
 * each, at most half full): ~36 bytes per distinct pre-token of 9 bytes, all off the V8 heap. A
 * pre-token already in the table costs no allocation: it is encoded into a scratch buffer, hashed
 * and compared in place. The bytes are what training needs (words of byte symbols), and the typed
 * arrays move between threads without copying (`pack` / `fromPacked`).
 *
 * Keys are bytes, so a lone surrogate counts as U+FFFD (EF BF BD), as it does in training.
 */
export interface PackedPretokenTable {
  size: number;
  slots: Int32Array;
  hashes: Int32Array;
  /** Entry e's key is bytes[starts[e] .. starts[e + 1]). */
  starts: Uint32Array;
  counts: Float64Array;
  bytes: Uint8Array;
}

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
const MAX_ARENA_BYTES = 2 ** 32 - 1;

export class PretokenTable {
  private slots: Int32Array; // entry + 1; 0 = empty
  private mask: number;
  private hashes: Int32Array;
  private starts: Uint32Array;
  private counts: Float64Array;
  private bytes: Uint8Array;
  private used = 0;
  private scratch = new Uint8Array(1 << 12);

  /** `initialCapacity`: slots before the first growth (a power of two; the table stays ≤ half full). */
  constructor(initialCapacity = 1 << 12) {
    if (!Number.isInteger(Math.log2(initialCapacity)) || initialCapacity < 2) {
      throw new Error(`PretokenTable: initialCapacity must be a power of two ≥ 2; got ${initialCapacity}`);
    }
    this.slots = new Int32Array(initialCapacity);
    this.mask = initialCapacity - 1;
    const entries = initialCapacity >> 1;
    this.hashes = new Int32Array(entries);
    this.starts = new Uint32Array(entries + 1);
    this.counts = new Float64Array(entries);
    this.bytes = new Uint8Array(entries * 8);
  }

  /** A table over arrays from `pack()` (e.g. sent by a worker thread); they are used, not copied. */
  static fromPacked(packed: PackedPretokenTable): PretokenTable {
    const table = new PretokenTable(2);
    table.slots = packed.slots;
    table.mask = packed.slots.length - 1;
    table.hashes = packed.hashes;
    table.starts = packed.starts;
    table.counts = packed.counts;
    table.bytes = packed.bytes;
    table.used = packed.size;
    return table;
  }

  /** The table's arrays, to transfer to another thread; this table must not be used afterwards. */
  pack(): PackedPretokenTable {
    return { size: this.used, slots: this.slots, hashes: this.hashes, starts: this.starts, counts: this.counts, bytes: this.bytes };
  }

  /** Number of distinct pre-tokens. */
  get size(): number {
    return this.used;
  }

  /** Adds `count` occurrences of `text.slice(start, end)`. */
  add(text: string, start: number, end: number, count = 1): void {
    if ((end - start) * 3 > this.scratch.length) this.scratch = new Uint8Array(Math.max((end - start) * 3, this.scratch.length * 2));
    const out = this.scratch;
    // UTF-8 encode into scratch and hash the bytes (FNV-1a) in the same loop.
    let n = 0;
    let hash = FNV_OFFSET;
    for (let i = start; i < end; i++) {
      let c = text.charCodeAt(i);
      if (c < 0x80) {
        out[n++] = c;
        hash = Math.imul(hash ^ c, FNV_PRIME);
        continue;
      }
      const from = n;
      if (c < 0x800) {
        out[n++] = 0xc0 | (c >> 6);
        out[n++] = 0x80 | (c & 0x3f);
      } else {
        if (c >= 0xd800 && c <= 0xdfff) {
          const d = c <= 0xdbff && i + 1 < end ? text.charCodeAt(i + 1) : 0;
          if (d >= 0xdc00 && d <= 0xdfff) {
            c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
            i++;
          } else c = 0xfffd; // lone surrogate
        }
        if (c >= 0x10000) {
          out[n++] = 0xf0 | (c >> 18);
          out[n++] = 0x80 | ((c >> 12) & 0x3f);
        } else out[n++] = 0xe0 | (c >> 12);
        out[n++] = 0x80 | ((c >> 6) & 0x3f);
        out[n++] = 0x80 | (c & 0x3f);
      }
      for (let k = from; k < n; k++) hash = Math.imul(hash ^ out[k]!, FNV_PRIME);
    }
    this.addBytes(out, 0, n, mix(hash), count);
  }

  /** Adds every entry of `other` (which is left as it was). */
  addAll(other: PretokenTable): void {
    const { hashes, starts, counts, bytes } = other;
    for (let e = 0; e < other.used; e++) this.addBytes(bytes, starts[e]!, starts[e + 1]!, hashes[e]!, counts[e]!);
  }

  /**
   * Calls `visit(bytes, start, end, count)` for each entry, in the order first added; the key is
   * `bytes[start..end)` (a view of the arena: copy what must outlive the table).
   */
  forEachBytes(visit: (bytes: Uint8Array, start: number, end: number, count: number) => void): void {
    for (let e = 0; e < this.used; e++) visit(this.bytes, this.starts[e]!, this.starts[e + 1]!, this.counts[e]!);
  }

  /** Calls `visit(pretoken, count)` for each entry (keys decoded from UTF-8). */
  forEach(visit: (pretoken: string, count: number) => void): void {
    const decoder = new TextDecoder();
    this.forEachBytes((bytes, start, end, count) => visit(decoder.decode(bytes.subarray(start, end)), count));
  }

  toMap(): Map<string, number> {
    const map = new Map<string, number>();
    this.forEach((pretoken, count) => map.set(pretoken, count));
    return map;
  }

  /** Adds `count` to the key `key[from..to)` whose hash (from `mix`) is `hash`. */
  private addBytes(key: Uint8Array, from: number, to: number, hash: number, count: number): void {
    const length = to - from;
    const { slots, hashes, starts, bytes } = this;
    let slot = hash & this.mask;
    for (;;) {
      const entry = slots[slot]! - 1;
      if (entry < 0) break;
      if (hashes[entry] === hash) {
        const at = starts[entry]!;
        if (starts[entry + 1]! - at === length && sameBytes(bytes, at, key, from, length)) {
          this.counts[entry]! += count;
          return;
        }
      }
      slot = (slot + 1) & this.mask;
    }
    this.append(key, from, to, hash, count);
    this.slots[slot] = this.used;
    if (this.used * 2 > this.slots.length) this.growSlots();
  }

  private append(key: Uint8Array, from: number, to: number, hash: number, count: number): void {
    const e = this.used;
    if (e === this.hashes.length) {
      const entries = e * 2;
      this.hashes = grown(this.hashes, new Int32Array(entries));
      this.counts = grown(this.counts, new Float64Array(entries));
      this.starts = grown(this.starts, new Uint32Array(entries + 1));
    }
    const at = this.starts[e]!;
    const end = at + (to - from);
    if (end > this.bytes.length) {
      if (end > MAX_ARENA_BYTES) throw new Error(`PretokenTable: distinct pre-tokens take more than ${MAX_ARENA_BYTES} bytes`);
      this.bytes = grown(this.bytes, new Uint8Array(Math.min(MAX_ARENA_BYTES, Math.max(end, Math.ceil(this.bytes.length * 1.5)))));
    }
    this.bytes.set(key.subarray(from, to), at);
    this.starts[e + 1] = end;
    this.hashes[e] = hash;
    this.counts[e] = count;
    this.used = e + 1;
  }

  private growSlots(): void {
    const capacity = this.slots.length * 2;
    const slots = new Int32Array(capacity);
    const mask = capacity - 1;
    for (let e = 0; e < this.used; e++) {
      let slot = this.hashes[e]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = e + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/** Final mix so the low bits (the slot) depend on every byte. */
function mix(hash: number): number {
  return hash ^ (hash >>> 15);
}

function sameBytes(a: Uint8Array, at: number, b: Uint8Array, from: number, length: number): boolean {
  for (let j = 0; j < length; j++) if (a[at + j] !== b[from + j]) return false;
  return true;
}

function grown<T extends Int32Array | Uint32Array | Float64Array | Uint8Array>(old: T, into: T): T {
  into.set(old as never);
  return into;
}
