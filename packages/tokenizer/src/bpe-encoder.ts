/**
 * The hot path of encoding: split on special tokens (longest first) → GPT-2 pre-tokens (@cs336/bpe)
 * → per pre-token, a fixed-size cache (pretoken-cache.ts), else UTF-8 bytes → BPE merge loop
 * (byte-pair-merge.ts). The text is never copied into a byte buffer as a whole: each pre-token is
 * UTF-8 encoded by hand straight into byte-token ids.
 *
 * `compileBpe` validates a vocab + merges once and flattens them into typed arrays (`CompiledBpe`),
 * which worker threads receive and rebuild an encoder from in milliseconds.
 */
// The pretokenizer alone, not the trainer: encodeFile's workers import this file and start faster.
import { pretokenEnd, specialTokenPattern } from '@cs336/bpe/pretokenize';
import { MergeScratch, MergeTable, bytePairMerge } from './byte-pair-merge.js';
import { CACHE_MAX_PIECE, PretokenCache } from './pretoken-cache.js';

/** Where the encoder appends ids: a `number[]` or an IdBuffer (id-buffer.ts). */
export interface IdSink {
  push(id: number): void;
}

/** A validated BPE model in flat form: cheap to send to a worker thread. */
export interface CompiledBpe {
  /** `byteToId[b]`: the id of the one-byte token b. */
  byteToId: Int32Array;
  /** Merges in rank order as (left id, right id, merged id) triples. */
  mergeTriples: Int32Array;
  /** Special tokens (deduplicated, in the order given) and their ids. */
  specialTokens: string[];
  specialIds: number[];
}

/** A merge that does not fit the vocab; `mergeIndex` lets file readers report a line number. */
export class MergeError extends Error {
  constructor(readonly mergeIndex: number, message: string) {
    super(message);
    this.name = 'MergeError';
  }
}

/** The bytes as a string of U+0000..U+00FF, one character per byte: a cheap Map key (no Buffer, so it runs anywhere). */
function latin1(bytes: Uint8Array): string {
  if (bytes.length <= 16) {
    let key = '';
    for (let i = 0; i < bytes.length; i++) key += String.fromCharCode(bytes[i]!);
    return key;
  }
  let key = '';
  for (let i = 0; i < bytes.length; i += 4096) key += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  return key;
}

/**
 * Checks a vocab (id → bytes), merges (pairs of bytes, in merge order) and special tokens, and returns
 * the compiled model plus id → bytes with specials missing from the vocab given the next free ids.
 */
export function compileBpe(
  vocab: ReadonlyMap<number, Uint8Array>,
  merges: readonly (readonly [Uint8Array, Uint8Array])[],
  specialTokens: readonly string[],
): { compiled: CompiledBpe; tokenBytes: (Uint8Array | undefined)[] } {
  const tokenBytes: (Uint8Array | undefined)[] = [];
  const idOfBytes = new Map<string, number>();
  for (const [id, bytes] of [...vocab].sort((a, b) => a[0] - b[0])) {
    if (!Number.isSafeInteger(id) || id < 0) throw new Error(`Tokenizer: vocab id ${id} is not a non-negative integer`);
    if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new Error(`Tokenizer: vocab id ${id} has no bytes; every token needs at least one byte`);
    tokenBytes[id] = bytes;
    const key = latin1(bytes);
    if (!idOfBytes.has(key)) idOfBytes.set(key, id); // a duplicate keeps the lowest id
  }
  const byteToId = new Int32Array(256);
  for (let b = 0; b < 256; b++) {
    const id = idOfBytes.get(String.fromCharCode(b));
    if (id === undefined) throw new Error(`Tokenizer: the vocab has no token for byte 0x${b.toString(16).padStart(2, '0')}; a byte-level BPE vocab needs all 256 single bytes`);
    byteToId[b] = id;
  }

  const show = (bytes: Uint8Array) => JSON.stringify(new TextDecoder().decode(bytes));
  const mergeTriples = new Int32Array(merges.length * 3);
  merges.forEach(([left, right], index) => {
    const leftId = idOfBytes.get(latin1(left));
    const rightId = idOfBytes.get(latin1(right));
    const mergedId = idOfBytes.get(latin1(left) + latin1(right));
    const missing = leftId === undefined ? left : rightId === undefined ? right : mergedId === undefined ? new Uint8Array([...left, ...right]) : undefined;
    if (missing) throw new MergeError(index, `Tokenizer: merge ${index} (${show(left)} + ${show(right)}) refers to ${show(missing)}, which is not in the vocab; use the merges file that belongs to this vocab`);
    mergeTriples.set([leftId!, rightId!, mergedId!], index * 3);
  });

  const specials = [...new Set(specialTokens)];
  const specialIds: number[] = [];
  for (const special of specials) {
    if (typeof special !== 'string' || special.length === 0) throw new Error(`Tokenizer: special token ${JSON.stringify(special)} is empty; special tokens must be non-empty strings`);
    const bytes = new TextEncoder().encode(special);
    let id = idOfBytes.get(latin1(bytes));
    if (id === undefined) {
      id = tokenBytes.length;
      tokenBytes[id] = bytes;
      idOfBytes.set(latin1(bytes), id);
    }
    specialIds.push(id);
  }
  return { compiled: { byteToId, mergeTriples, specialTokens: specials, specialIds }, tokenBytes };
}

export class BpeEncoder {
  private readonly byteToId: Int32Array;
  private readonly mergeTable: MergeTable;
  private readonly specialIds: Map<string, number>;
  /** Matches any special token, longest first; built once rather than per encode call. */
  private readonly specialPattern: RegExp | undefined;
  private readonly cache = new PretokenCache();
  private readonly scratch = new MergeScratch();

  constructor(compiled: CompiledBpe) {
    this.byteToId = compiled.byteToId;
    this.mergeTable = new MergeTable(compiled.mergeTriples);
    this.specialPattern = compiled.specialTokens.length > 0 ? specialTokenPattern(compiled.specialTokens) : undefined;
    this.specialIds = new Map(compiled.specialTokens.map((token, i) => [token, compiled.specialIds[i]!]));
  }

  /** Token ids of `text`, special tokens included. */
  encode(text: string): number[] {
    const ids: number[] = [];
    this.encodeInto(text, ids);
    return ids;
  }

  /**
   * Appends the token ids of `text` (special tokens included) to `out`: a plain array for `encode`,
   * an IdBuffer for encodeFile's jobs (range-encoder.ts). A thread normally uses only one of the
   * two, so the `push` calls stay monomorphic there and inline as before.
   */
  encodeInto(text: string, out: IdSink): void {
    const pattern = this.specialPattern;
    if (pattern === undefined) {
      this.encodeOrdinary(text, out);
      return;
    }
    pattern.lastIndex = 0;
    let last = 0;
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      if (match.index > last) this.encodeOrdinary(text.slice(last, match.index), out);
      out.push(this.specialIds.get(match[0])!);
      last = pattern.lastIndex;
    }
    if (last < text.length) this.encodeOrdinary(last === 0 ? text : text.slice(last), out);
  }

  /**
   * The number of ids `encode(text)` would give, counted without building them; stops as soon as
   * the count passes `limit` (and then returns some count above it).
   */
  count(text: string, limit: number): number {
    const pattern = this.specialPattern;
    if (pattern === undefined) return this.countOrdinary(text, 0, text.length, 0, limit);
    pattern.lastIndex = 0;
    let last = 0;
    let count = 0;
    for (let match = pattern.exec(text); match !== null && count <= limit; match = pattern.exec(text)) {
      count = this.countOrdinary(text, last, match.index, count, limit) + 1;
      last = pattern.lastIndex;
    }
    return count > limit ? count : this.countOrdinary(text, last, text.length, count, limit);
  }

  private countOrdinary(text: string, from: number, to: number, count: number, limit: number): number {
    // Pre-tokens never cross a special token, so scanning text[from, to) equals scanning the slice.
    const piece = from === 0 && to === text.length ? text : text.slice(from, to);
    for (let start = 0, end = 0; start < piece.length && count <= limit; start = end) {
      end = pretokenEnd(piece, start);
      count += this.pretokenLength(piece, start, end);
    }
    return count;
  }

  /** The number of ids of one pre-token (from the cache, else merged and cached). */
  private pretokenLength(text: string, start: number, end: number): number {
    if (end - start === 1 && text.charCodeAt(start) < 0x80) return 1;
    const cacheable = end - start <= CACHE_MAX_PIECE;
    const hash = cacheable ? PretokenCache.hash(text, start, end) : 0;
    if (cacheable) {
      const entry = this.cache.find(text, start, end, hash);
      if (entry >= 0) return this.cache.valueLengthOf(entry);
    }
    const length = this.mergePretoken(text, start, end);
    if (cacheable) this.cache.insert(text, start, end, hash, this.scratch.ids, length);
    return length;
  }

  /**
   * Text without special-token handling: BPE over GPT-2 pre-tokens. A plain loop rather than
   * forEachPretoken's callback, which would be a new closure per call and cost V8 a re-optimization.
   */
  private encodeOrdinary(text: string, ids: IdSink): void {
    for (let start = 0, end = 0; start < text.length; start = end) {
      end = pretokenEnd(text, start);
      this.encodePretoken(text, start, end, ids);
    }
  }

  private encodePretoken(text: string, start: number, end: number, out: IdSink): void {
    // One ASCII character (punctuation, newline, a lone letter): a single byte has nothing to merge.
    if (end - start === 1) {
      const c = text.charCodeAt(start);
      if (c < 0x80) {
        out.push(this.byteToId[c]!);
        return;
      }
    }
    const cache = this.cache;
    const cacheable = end - start <= CACHE_MAX_PIECE;
    const hash = cacheable ? PretokenCache.hash(text, start, end) : 0;
    if (cacheable) {
      const entry = cache.find(text, start, end, hash);
      if (entry >= 0) {
        const cachedIds = cache.ids;
        const from = cache.valueStartOf(entry);
        const to = from + cache.valueLengthOf(entry);
        for (let i = from; i < to; i++) out.push(cachedIds[i]!);
        return;
      }
    }
    const length = this.mergePretoken(text, start, end);
    const mergedIds = this.scratch.ids;
    for (let i = 0; i < length; i++) out.push(mergedIds[i]!);
    if (cacheable) cache.insert(text, start, end, hash, mergedIds, length);
  }

  /** UTF-8 bytes of text[start, end) → byte ids → BPE merges; the ids are left in `scratch.ids`. */
  private mergePretoken(text: string, start: number, end: number): number {
    const scratch = this.scratch;
    scratch.ensure(3 * (end - start)); // a UTF-16 unit is at most 3 UTF-8 bytes (a pair: 4 for 2)
    const ids = scratch.ids;
    const byteToId = this.byteToId;
    let n = 0;
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x80) {
        ids[n++] = byteToId[c]!;
      } else if (c < 0x800) {
        ids[n++] = byteToId[0xc0 | (c >> 6)]!;
        ids[n++] = byteToId[0x80 | (c & 0x3f)]!;
      } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < end && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        const codePoint = 0x10000 + ((c - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00);
        ids[n++] = byteToId[0xf0 | (codePoint >> 18)]!;
        ids[n++] = byteToId[0x80 | ((codePoint >> 12) & 0x3f)]!;
        ids[n++] = byteToId[0x80 | ((codePoint >> 6) & 0x3f)]!;
        ids[n++] = byteToId[0x80 | (codePoint & 0x3f)]!;
      } else {
        const unit = c >= 0xd800 && c <= 0xdfff ? 0xfffd : c; // lone surrogate → U+FFFD
        ids[n++] = byteToId[0xe0 | (unit >> 12)]!;
        ids[n++] = byteToId[0x80 | ((unit >> 6) & 0x3f)]!;
        ids[n++] = byteToId[0x80 | (unit & 0x3f)]!;
      }
    }
    return bytePairMerge(this.mergeTable, scratch, n);
  }
}
