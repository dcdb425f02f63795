/**
 * A byte-level BPE tokenizer with GPT-2's exact semantics (tiktoken's `gpt2` ids on GPT-2's files).
 *
 * encode: split on special tokens (longest first) → GPT-2 pre-tokens (@cs336/bpe) → per pre-token, a
 * fixed-size cache (pretoken-cache.ts), else UTF-8 bytes → BPE merge loop (byte-pair-merge.ts). Text is never copied into a
 * byte buffer as a whole: each pre-token is UTF-8 encoded by hand straight into token ids.
 *
 * Lone UTF-16 surrogates (not valid Unicode) are encoded as U+FFFD's bytes EF BF BD, exactly what
 * `TextEncoder` does, so `encode(s)` equals encoding `new TextEncoder().encode(s)`.
 */
import { createHash } from 'node:crypto';
import { forEachPretoken, readGpt2Files, readTokenizerJson, splitOnSpecialTokens } from '@cs336/bpe';
import { MergeScratch, MergeTable, bytePairMerge } from './byte-pair-merge.js';
import { encodeFile, type EncodeFileOptions, type TokenFileSidecar } from './encode-file.js';
import { CACHE_MAX_PIECE, PretokenCache } from './pretoken-cache.js';
import { lastSafeCutInText } from './safe-boundary.js';

/** The data a tokenizer is built from. */
export interface TokenizerModel {
  vocab: ReadonlyMap<number, Uint8Array>;
  merges: readonly (readonly [Uint8Array, Uint8Array])[];
  specialTokens: readonly string[];
}

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

export class Tokenizer {
  /** One more than the largest token id (the embedding table size), special tokens included. */
  readonly vocabSize: number;
  /** Special tokens, in the order given. */
  readonly specialTokens: readonly string[];
  private readonly tokenBytes: (Uint8Array | undefined)[];
  private readonly byteToId = new Int32Array(256);
  private readonly mergeTable: MergeTable;
  private readonly specialIds = new Map<string, number>();
  private readonly model: TokenizerModel;
  private readonly cache = new PretokenCache();
  private readonly scratch = new MergeScratch();
  private readonly utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  private hashHex: string | undefined;

  /**
   * `vocab`: id → token bytes; `merges`: pairs of token bytes in merge order (first = applied first);
   * `specialTokens`: strings always encoded as one token. A special token missing from the vocab is
   * given the next free id.
   */
  constructor(vocab: ReadonlyMap<number, Uint8Array>, merges: readonly (readonly [Uint8Array, Uint8Array])[], specialTokens: readonly string[] = []) {
    const tokenBytes: (Uint8Array | undefined)[] = [];
    const idOfBytes = new Map<string, number>();
    for (const [id, bytes] of [...vocab].sort((a, b) => a[0] - b[0])) {
      if (!Number.isSafeInteger(id) || id < 0) throw new Error(`Tokenizer: vocab id ${id} is not a non-negative integer`);
      if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new Error(`Tokenizer: vocab id ${id} has no bytes; every token needs at least one byte`);
      tokenBytes[id] = bytes;
      const key = latin1(bytes);
      if (!idOfBytes.has(key)) idOfBytes.set(key, id); // a duplicate keeps the lowest id
    }
    for (let b = 0; b < 256; b++) {
      const id = idOfBytes.get(String.fromCharCode(b));
      if (id === undefined) throw new Error(`Tokenizer: the vocab has no token for byte 0x${b.toString(16).padStart(2, '0')}; a byte-level BPE vocab needs all 256 single bytes`);
      this.byteToId[b] = id;
    }

    const show = (bytes: Uint8Array) => JSON.stringify(new TextDecoder().decode(bytes));
    const pairs = merges.map(([left, right], index): [number, number, number] => {
      const leftId = idOfBytes.get(latin1(left));
      const rightId = idOfBytes.get(latin1(right));
      const mergedId = idOfBytes.get(latin1(left) + latin1(right));
      const missing = leftId === undefined ? left : rightId === undefined ? right : mergedId === undefined ? new Uint8Array([...left, ...right]) : undefined;
      if (missing) throw new Error(`Tokenizer: merge ${index} (${show(left)} + ${show(right)}) refers to ${show(missing)}, which is not in the vocab; use the merges file that belongs to this vocab`);
      return [leftId!, rightId!, mergedId!];
    });
    this.mergeTable = new MergeTable(pairs);

    const specials = [...new Set(specialTokens)];
    for (const special of specials) {
      if (typeof special !== 'string' || special.length === 0) throw new Error(`Tokenizer: special token ${JSON.stringify(special)} is empty; special tokens must be non-empty strings`);
      const bytes = new TextEncoder().encode(special);
      let id = idOfBytes.get(latin1(bytes));
      if (id === undefined) {
        id = tokenBytes.length;
        tokenBytes[id] = bytes;
        idOfBytes.set(latin1(bytes), id);
      }
      this.specialIds.set(special, id);
    }
    this.specialTokens = specials;
    this.tokenBytes = tokenBytes;
    this.vocabSize = tokenBytes.length;
    this.model = { vocab, merges, specialTokens: specials };
  }

  /** Reads GPT-2 `vocab.json` + `merges.txt` (or what @cs336/bpe writes). */
  static async fromFiles(vocabPath: string, mergesPath: string, specialTokens: readonly string[] = []): Promise<Tokenizer> {
    const { vocab, merges } = await readGpt2Files(vocabPath, mergesPath);
    try {
      return new Tokenizer(vocab, merges, specialTokens);
    } catch (error) {
      throw new Error(`${vocabPath} + ${mergesPath}: ${(error as Error).message}`);
    }
  }

  /** Reads a Hugging Face ByteLevel BPE `tokenizer.json`; its added tokens become special tokens. */
  static async fromTokenizerJson(file: string): Promise<Tokenizer> {
    const { vocab, merges, specialTokens } = await readTokenizerJson(file);
    try {
      return new Tokenizer(vocab, merges, specialTokens);
    } catch (error) {
      throw new Error(`${file}: ${(error as Error).message}`);
    }
  }

  /** The vocab, merges and special tokens this tokenizer was built from. */
  toModel(): TokenizerModel {
    return this.model;
  }

  /** The id of a special token, or undefined. */
  specialTokenId(token: string): number | undefined {
    return this.specialIds.get(token);
  }

  /** Token ids of `text`. Special tokens in the text become their ids; no other text can produce them. */
  encode(text: string): number[] {
    if (typeof text !== 'string') throw new TypeError(`Tokenizer.encode: expected a string, got ${text === null ? 'null' : typeof text}`);
    const ids: number[] = [];
    if (this.specialIds.size === 0) {
      this.encodeOrdinary(text, ids);
      return ids;
    }
    for (const piece of splitOnSpecialTokens(text, this.specialTokens)) {
      if (piece.special) ids.push(this.specialIds.get(piece.text)!);
      else this.encodeOrdinary(piece.text, ids);
    }
    return ids;
  }

  /** Text without special-token handling: BPE over GPT-2 pre-tokens. */
  private encodeOrdinary(text: string, ids: number[]): void {
    forEachPretoken(text, (start, end) => this.encodePretoken(text, start, end, ids));
  }

  private encodePretoken(text: string, start: number, end: number, out: number[]): void {
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
    const length = bytePairMerge(this.mergeTable, scratch, n);
    for (let i = 0; i < length; i++) out.push(scratch.ids[i]!);
    if (cacheable) cache.insert(text, start, end, hash, scratch.ids, length);
  }

  /**
   * Ids of a text arriving in chunks, produced lazily with bounded memory. Chunks are joined and cut
   * only at safe boundaries (safe-boundary.ts), so the ids equal `encode(chunks.join(''))`.
   * A sync iterable of strings (e.g. lines) gives a sync generator; an async iterable or a Node
   * `Readable` (strings or UTF-8 bytes) gives an async generator.
   */
  encodeIterable(source: Iterable<string>): Generator<number, void, undefined>;
  encodeIterable(source: AsyncIterable<string | Uint8Array> | NodeJS.ReadableStream): AsyncGenerator<number, void, undefined>;
  encodeIterable(source: Iterable<string> | AsyncIterable<string | Uint8Array> | NodeJS.ReadableStream): Generator<number, void, undefined> | AsyncGenerator<number, void, undefined> {
    if (typeof source === 'object' && source !== null && Symbol.asyncIterator in source) return this.encodeAsyncChunks(source as AsyncIterable<string | Uint8Array>);
    if (typeof source === 'string' || (typeof source === 'object' && source !== null && Symbol.iterator in source)) return this.encodeSyncChunks(source as Iterable<string>);
    throw new TypeError(`Tokenizer.encodeIterable: expected an iterable or async iterable of strings (or a Readable), got ${source === null ? 'null' : typeof source}`);
  }

  private *encodeSyncChunks(source: Iterable<string>): Generator<number, void, undefined> {
    let pending = '';
    let index = 0;
    for (const chunk of source) {
      if (typeof chunk !== 'string') throw new TypeError(`Tokenizer.encodeIterable: chunk ${index} is ${chunk === null ? 'null' : typeof chunk}; a sync iterable must yield strings`);
      index++;
      pending += chunk;
      const cut = lastSafeCutInText(pending, this.specialTokens);
      if (cut === 0) continue;
      const ready = pending.slice(0, cut);
      pending = pending.slice(cut);
      yield* this.encode(ready);
    }
    yield* this.encode(pending);
  }

  private async *encodeAsyncChunks(source: AsyncIterable<string | Uint8Array>): AsyncGenerator<number, void, undefined> {
    const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    let pending = '';
    let index = 0;
    for await (const chunk of source) {
      if (typeof chunk === 'string') pending += chunk;
      else if (chunk instanceof Uint8Array) pending += decoder.decode(chunk, { stream: true });
      else throw new TypeError(`Tokenizer.encodeIterable: chunk ${index} is ${chunk === null ? 'null' : typeof chunk}; expected a string or UTF-8 bytes`);
      index++;
      const cut = lastSafeCutInText(pending, this.specialTokens);
      if (cut === 0) continue;
      const ready = pending.slice(0, cut);
      pending = pending.slice(cut);
      yield* this.encode(ready);
    }
    pending += decoder.decode();
    yield* this.encode(pending);
  }

  /** The bytes of `ids` joined. Throws on an id that is not in the vocabulary. */
  decodeBytes(ids: readonly number[] | ArrayLike<number>): Uint8Array {
    let total = 0;
    for (let i = 0; i < ids.length; i++) total += this.bytesOf(ids[i]!, i).length;
    const out = new Uint8Array(total);
    let offset = 0;
    for (let i = 0; i < ids.length; i++) {
      const bytes = this.tokenBytes[ids[i]!]!;
      out.set(bytes, offset);
      offset += bytes.length;
    }
    return out;
  }

  /** Text of `ids`; byte sequences that are not valid UTF-8 become U+FFFD. */
  decode(ids: readonly number[] | ArrayLike<number>): string {
    return this.utf8Decoder.decode(this.decodeBytes(ids));
  }

  private bytesOf(id: number, index: number): Uint8Array {
    const bytes = Number.isInteger(id) ? this.tokenBytes[id] : undefined;
    if (bytes === undefined) throw new RangeError(`Tokenizer.decode: id ${id} at index ${index} is not in the vocabulary (ids are 0..${this.vocabSize - 1})`);
    return bytes;
  }

  /**
   * sha256 (hex) of the vocab, merges and special tokens: two tokenizers with the same hash encode
   * alike. Token files and checkpoints record it to catch a tokenizer mix-up.
   */
  hash(): string {
    if (this.hashHex !== undefined) return this.hashHex;
    const hash = createHash('sha256');
    const header = new Uint32Array(1);
    const u32 = (value: number) => {
      header[0] = value;
      hash.update(new Uint8Array(header.buffer));
    };
    hash.update('cs336-tokenizer/v1');
    u32(this.tokenBytes.length);
    this.tokenBytes.forEach((bytes, id) => {
      if (!bytes) return;
      u32(id);
      u32(bytes.length);
      hash.update(bytes);
    });
    u32(this.model.merges.length);
    for (const [left, right] of this.model.merges) {
      u32(left.length);
      hash.update(left);
      u32(right.length);
      hash.update(right);
    }
    hash.update(JSON.stringify(this.specialTokens));
    this.hashHex = hash.digest('hex');
    return this.hashHex;
  }

  /**
   * Encodes the text file `input` into `output`: raw little-endian uint16 ids (uint32 when the vocab
   * exceeds 65,536 ids) plus the sidecar `<output>.json`, both written atomically. With `workers` > 0
   * the file is split at safe boundaries and encoded on worker threads; the ids equal one `encode`.
   */
  encodeFile(input: string, output: string, options: EncodeFileOptions = {}): Promise<TokenFileSidecar> {
    return encodeFile(this, input, output, options);
  }
}
