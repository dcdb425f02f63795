/**
 * Pre-token → ids cache in fixed typed arrays: an open-addressing hash table whose keys (UTF-16
 * units) and values (ids) live in two arenas.
 *
 * Why not a `Map<string, number[]>`: on streamed text every cache miss leaves a string, an array and
 * a map entry that survive long enough to be promoted to V8's old space; when the map is dropped they
 * become garbage the major GC collects late, and RSS grew by over 100 MB on a 100 MB stream. This
 * cache allocates nothing after construction (about 3.5 MB), and looking a pre-token up needs no
 * `slice` of the text. When a table or arena is full the cache is emptied whole: natural text
 * refills its frequent pre-tokens within a few KB.
 */

/** Longest pre-token (UTF-16 units) worth caching; longer ones are rare and would crowd the arena. */
export const CACHE_MAX_PIECE = 48;

export class PretokenCache {
  private readonly slots: Int32Array; // entry index + 1, 0 = empty
  private readonly mask: number;
  private readonly keyHash: Int32Array;
  private readonly keyStart: Int32Array;
  private readonly keyLength: Int32Array;
  private readonly valueStart: Int32Array;
  private readonly valueLength: Int32Array;
  private readonly chars: Uint16Array;
  /** Cached ids; entry `e` is `ids[valueStart(e) .. valueStart(e) + valueLength(e))`. */
  readonly ids: Int32Array;
  private entries = 0;
  private charsUsed = 0;
  private idsUsed = 0;

  constructor(readonly maxEntries = 1 << 16) {
    this.slots = new Int32Array(maxEntries * 2);
    this.mask = maxEntries * 2 - 1;
    this.keyHash = new Int32Array(maxEntries);
    this.keyStart = new Int32Array(maxEntries);
    this.keyLength = new Int32Array(maxEntries);
    this.valueStart = new Int32Array(maxEntries);
    this.valueLength = new Int32Array(maxEntries);
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
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const entry = this.slots[slot]! - 1;
      if (entry < 0) return -1;
      if (this.keyHash[entry] !== hash || this.keyLength[entry] !== length) continue;
      const keyStart = this.keyStart[entry]!;
      let i = 0;
      while (i < length && this.chars[keyStart + i] === text.charCodeAt(start + i)) i++;
      if (i === length) return entry;
    }
  }

  valueStartOf(entry: number): number {
    return this.valueStart[entry]!;
  }

  valueLengthOf(entry: number): number {
    return this.valueLength[entry]!;
  }

  /** Stores `values[0..count)` for text[start..end), emptying the cache first if it is full. */
  insert(text: string, start: number, end: number, hash: number, values: Int32Array, count: number): void {
    const length = end - start;
    if (this.entries === this.maxEntries || this.charsUsed + length > this.chars.length || this.idsUsed + count > this.ids.length) this.clear();
    const entry = this.entries++;
    this.keyHash[entry] = hash;
    this.keyStart[entry] = this.charsUsed;
    this.keyLength[entry] = length;
    for (let i = 0; i < length; i++) this.chars[this.charsUsed++] = text.charCodeAt(start + i);
    this.valueStart[entry] = this.idsUsed;
    this.valueLength[entry] = count;
    for (let i = 0; i < count; i++) this.ids[this.idsUsed++] = values[i]!;
    let slot = hash & this.mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
    this.slots[slot] = entry + 1;
  }

  clear(): void {
    this.slots.fill(0);
    this.entries = 0;
    this.charsUsed = 0;
    this.idsUsed = 0;
  }
}
