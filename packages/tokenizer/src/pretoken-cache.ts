/**
 * Pre-token → ids cache in fixed typed arrays: an open-addressing hash table whose keys (UTF-16
 * units) and values (ids) live in two arenas.
 *
 * Why not a `Map<string, number[]>`: on streamed text every cache miss leaves a string, an array and
 * a map entry that survive long enough to be promoted to V8's old space; when the map is dropped they
 * become garbage the major GC collects late, and RSS grew by over 100 MB on a 100 MB stream. This
 * cache allocates nothing after construction (about 4 MB), and looking a pre-token up needs no
 * `slice` of the text. When a table or arena is full the cache is emptied whole: natural text
 * refills its frequent pre-tokens within a few KB.
 */

/** Longest pre-token (UTF-16 units) worth caching; longer ones are rare and would crowd the arena. */
export const CACHE_MAX_PIECE = 48;

export class PretokenCache {
  /**
   * The hash table: per slot, four ints (hash, key start, value start, key length | value length << 16),
   * side by side so that a probe reads one cache line rather than one per field. Key length 0 = empty.
   */
  private readonly table: Int32Array;
  private readonly mask: number;
  private readonly chars: Uint16Array;
  /** Cached ids; entry `e` is `ids[valueStartOf(e) .. valueStartOf(e) + valueLengthOf(e))`. */
  readonly ids: Int32Array;
  private entries = 0;
  private charsUsed = 0;
  private idsUsed = 0;

  constructor(readonly maxEntries = 1 << 16) {
    this.table = new Int32Array(maxEntries * 2 * 4);
    this.mask = maxEntries * 2 - 1;
    this.chars = new Uint16Array(maxEntries * 8);
    this.ids = new Int32Array(maxEntries * 4);
  }

  /** FNV-1a over the UTF-16 units of text[start..end). */
  static hash(text: string, start: number, end: number): number {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    return h;
  }

  /** The entry for text[start..end) (hash `hash`), or -1. */
  find(text: string, start: number, end: number, hash: number): number {
    const length = end - start;
    const table = this.table;
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const at = slot << 2;
      const lengths = table[at + 3]!;
      if (lengths === 0) return -1;
      if (table[at] !== hash || (lengths & 0xffff) !== length) continue;
      const keyStart = table[at + 1]!;
      let i = 0;
      while (i < length && this.chars[keyStart + i] === text.charCodeAt(start + i)) i++;
      if (i === length) return at;
    }
  }

  valueStartOf(entry: number): number {
    return this.table[entry + 2]!;
  }

  valueLengthOf(entry: number): number {
    return this.table[entry + 3]! >>> 16;
  }

  /** Stores `values[0..count)` for text[start..end) (non-empty), emptying the cache first if it is full. */
  insert(text: string, start: number, end: number, hash: number, values: Int32Array, count: number): void {
    const length = end - start;
    if (this.entries === this.maxEntries || this.charsUsed + length > this.chars.length || this.idsUsed + count > this.ids.length) this.clear();
    this.entries++;
    const table = this.table;
    let slot = hash & this.mask;
    while (table[(slot << 2) + 3] !== 0) slot = (slot + 1) & this.mask;
    const at = slot << 2;
    table[at] = hash;
    table[at + 1] = this.charsUsed;
    table[at + 2] = this.idsUsed;
    table[at + 3] = length | (count << 16);
    for (let i = 0; i < length; i++) this.chars[this.charsUsed++] = text.charCodeAt(start + i);
    for (let i = 0; i < count; i++) this.ids[this.idsUsed++] = values[i]!;
  }

  clear(): void {
    this.table.fill(0);
    this.entries = 0;
    this.charsUsed = 0;
    this.idsUsed = 0;
  }
}
