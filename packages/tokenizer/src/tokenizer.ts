/**
 * A byte-level BPE tokenizer with GPT-2's exact semantics (tiktoken's `gpt2` ids on GPT-2's files).
 * This class is the policy layer: validation, parsing, decoding, streaming, counting, hashing.
 * The hot path is BpeEncoder (bpe-encoder.ts).
 *
 * Nothing here touches Node: this class is the whole of the package's main entry in browsers, Deno,
 * Bun and web workers. The file APIs (fromFiles, encodeFile) are added by node-tokenizer.ts.
 *
 * Lone UTF-16 surrogates (not valid Unicode) are encoded as U+FFFD's bytes EF BF BD, exactly what
 * `TextEncoder` does, so `encode(s)` equals encoding `new TextEncoder().encode(s)`.
 */
import { parseGpt2Merges, parseGpt2Vocab, parseTokenizerJson } from '@cs336/bpe/gpt2-format';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { BpeEncoder, MergeError, compileBpe, type CompiledBpe } from './bpe-encoder.js';
import { lastSafeCutInText } from './safe-boundary.js';
import { tokenTableOf, type TokenTable } from './token-table.js';

/** The data a tokenizer is built from. */
export interface TokenizerModel {
  vocab: ReadonlyMap<number, Uint8Array>;
  merges: readonly (readonly [Uint8Array, Uint8Array])[];
  specialTokens: readonly string[];
}

/** What the static constructors build: Tokenizer itself or a subclass (the Node one). */
export type TokenizerClass<T extends Tokenizer> = new (
  vocab: ReadonlyMap<number, Uint8Array>,
  merges: readonly (readonly [Uint8Array, Uint8Array])[],
  specialTokens?: readonly string[],
) => T;

/**
 * @internal A tokenizer already compiled, for data known to be valid (the bundled GPT-2): the
 * constructor then skips compileBpe, and the model is built only if `toModel()` asks for it.
 */
export interface PrecompiledTokenizer {
  compiled: CompiledBpe;
  tokens: TokenTable;
  model: () => TokenizerModel;
}

/** encodeIterable encodes at most about this many UTF-16 units per step. */
const STREAM_WINDOW = 1 << 20;

export class Tokenizer {
  /** One more than the largest token id (the embedding table size), special tokens included. */
  readonly vocabSize: number;
  /** Special tokens, in the order given. */
  readonly specialTokens: readonly string[];
  private readonly tokens: TokenTable;
  private readonly compiledBpe: CompiledBpe;
  private readonly encoder: BpeEncoder;
  private model: TokenizerModel | (() => TokenizerModel);
  private readonly utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  private hashHex: string | undefined;

  /**
   * `vocab`: id → token bytes; `merges`: pairs of token bytes in merge order (first = applied first);
   * `specialTokens`: strings always encoded as one token. A special token missing from the vocab is
   * given the next free id. (`precompiled` is internal: when given, it replaces the other three.)
   */
  constructor(
    vocab: ReadonlyMap<number, Uint8Array>,
    merges: readonly (readonly [Uint8Array, Uint8Array])[],
    specialTokens: readonly string[] = [],
    /** @internal */
    precompiled?: PrecompiledTokenizer,
  ) {
    let compiled: CompiledBpe;
    if (precompiled) {
      compiled = precompiled.compiled;
      this.tokens = precompiled.tokens;
      this.model = precompiled.model;
    } else {
      const result = compileBpe(vocab, merges, specialTokens);
      compiled = result.compiled;
      this.tokens = tokenTableOf(result.tokenBytes);
      this.model = { vocab, merges, specialTokens: compiled.specialTokens };
    }
    this.compiledBpe = compiled;
    this.encoder = new BpeEncoder(compiled);
    this.specialTokens = compiled.specialTokens;
    this.vocabSize = this.tokens.offsets.length - 1;
  }

  /**
   * Builds a tokenizer from the contents of GPT-2 `vocab.json` + `merges.txt` (or what @cs336/bpe
   * writes). `sources` name the two texts in error messages (file paths, URLs).
   */
  static fromGpt2Text<T extends Tokenizer>(
    this: TokenizerClass<T>,
    vocabJson: string,
    mergesText: string,
    specialTokens: readonly string[] = [],
    sources: { vocab?: string; merges?: string } = {},
  ): T {
    const vocabSource = sources.vocab ?? 'vocab.json';
    const mergesSource = sources.merges ?? 'merges.txt';
    if (typeof vocabJson !== 'string' || typeof mergesText !== 'string') throw new TypeError(`Tokenizer.fromGpt2Text: expected the texts of ${vocabSource} and ${mergesSource} as strings`);
    const vocab = parseGpt2Vocab(vocabJson, vocabSource);
    const merges = parseGpt2Merges(mergesText, mergesSource);
    try {
      return new this(vocab, merges, specialTokens);
    } catch (error) {
      if (error instanceof MergeError) {
        // parseGpt2Merges skips a leading #version line; blank lines elsewhere are errors there.
        const line = error.mergeIndex + 1 + (mergesText.startsWith('#version') ? 1 : 0);
        throw new Error(`${mergesSource}:${line}: ${error.message} (vocab: ${vocabSource})`);
      }
      throw new Error(`${vocabSource} + ${mergesSource}: ${(error as Error).message}`);
    }
  }

  /**
   * Builds a tokenizer from the contents of a Hugging Face ByteLevel BPE `tokenizer.json`; its added
   * tokens become special tokens. `source` names it in error messages.
   */
  static fromTokenizerJsonText<T extends Tokenizer>(this: TokenizerClass<T>, json: string, source = 'tokenizer.json'): T {
    if (typeof json !== 'string') throw new TypeError(`Tokenizer.fromTokenizerJsonText: expected the text of ${source} as a string, got ${json === null ? 'null' : typeof json}`);
    const { vocab, merges, specialTokens } = parseTokenizerJson(json, source);
    try {
      return new this(vocab, merges, specialTokens);
    } catch (error) {
      throw new Error(`${source}: ${(error as Error).message}`);
    }
  }

  /** The vocab, merges and special tokens this tokenizer was built from. */
  toModel(): TokenizerModel {
    if (typeof this.model === 'function') this.model = this.model();
    return this.model;
  }

  /** The id of a special token, or undefined. */
  specialTokenId(token: string): number | undefined {
    const index = this.specialTokens.indexOf(token);
    return index < 0 ? undefined : this.compiledBpe.specialIds[index];
  }

  /** Token ids of `text`. Special tokens in the text become their ids; no other text can produce them. */
  encode(text: string): number[] {
    if (typeof text !== 'string') throw new TypeError(`Tokenizer.encode: expected a string, got ${text === null ? 'null' : typeof text}`);
    return this.encoder.encode(text);
  }

  /**
   * How many ids `encode(text)` gives, without building them (no id array is allocated).
   */
  countTokens(text: string): number {
    if (typeof text !== 'string') throw new TypeError(`Tokenizer.countTokens: expected a string, got ${text === null ? 'null' : typeof text}`);
    return this.encoder.count(text, Infinity);
  }

  /**
   * Whether `text` encodes to at most `limit` ids. Stops as soon as the count passes the limit, so a
   * long text over a small limit costs only its first few pre-tokens.
   */
  isWithinLimit(text: string, limit: number): boolean {
    if (typeof text !== 'string') throw new TypeError(`Tokenizer.isWithinLimit: expected a string, got ${text === null ? 'null' : typeof text}`);
    if (!(Number.isInteger(limit) && limit >= 0) && limit !== Infinity) throw new RangeError(`Tokenizer.isWithinLimit: limit is ${limit}; use a non-negative integer (or Infinity)`);
    return this.encoder.count(text, limit) <= limit;
  }

  /** @internal The flat form worker threads rebuild the encoder from (see encode-file.ts). */
  compiled(): CompiledBpe {
    return this.compiledBpe;
  }

  /**
   * Ids of a text arriving in chunks, produced lazily with bounded memory. Chunks are joined and cut
   * only at safe boundaries (safe-boundary.ts), so the ids equal `encode(chunks.join(''))`.
   * A sync iterable of strings (e.g. lines) gives a sync generator; an async iterable of strings or
   * UTF-8 bytes (a Node `Readable`, a web `ReadableStream`'s reader loop) gives an async generator.
   */
  encodeIterable(source: Iterable<string>): Generator<number, void, undefined>;
  encodeIterable(source: AsyncIterable<string | Uint8Array>): AsyncGenerator<number, void, undefined>;
  encodeIterable(source: Iterable<string> | AsyncIterable<string | Uint8Array>): Generator<number, void, undefined> | AsyncGenerator<number, void, undefined> {
    if (typeof source === 'object' && source !== null && Symbol.asyncIterator in source) return this.encodeAsyncChunks(source as AsyncIterable<string | Uint8Array>);
    // A string is an iterable of its characters; take it whole instead.
    if (typeof source === 'string') return this.encodeSyncChunks([source]);
    if (typeof source === 'object' && source !== null && Symbol.iterator in source) return this.encodeSyncChunks(source as Iterable<string>);
    throw new TypeError(`Tokenizer.encodeIterable: expected an iterable or async iterable of strings (or a Readable), got ${source === null ? 'null' : typeof source}`);
  }

  private *encodeSyncChunks(source: Iterable<string>): Generator<number, void, undefined> {
    let pending = '';
    let index = 0;
    for (const chunk of source) {
      if (typeof chunk !== 'string') throw new TypeError(`Tokenizer.encodeIterable: chunk ${index} is ${chunk === null ? 'null' : typeof chunk}; a sync iterable must yield strings`);
      index++;
      pending = yield* this.encodeSafePrefix(pending + chunk);
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
      pending = yield* this.encodeSafePrefix(pending);
    }
    pending += decoder.decode();
    yield* this.encode(pending);
  }

  /**
   * Yields the ids of `pending` up to its last safe cut and returns the rest. A huge chunk is taken
   * a window at a time (a safe cut of a prefix is a safe cut of the whole), so one chunk never
   * turns into one huge id array.
   */
  private *encodeSafePrefix(pending: string): Generator<number, string, undefined> {
    while (pending.length > 0) {
      let cut = pending.length > STREAM_WINDOW ? lastSafeCutInText(pending.slice(0, STREAM_WINDOW), this.specialTokens) : 0;
      if (cut === 0) cut = lastSafeCutInText(pending, this.specialTokens);
      if (cut === 0) break;
      yield* this.encode(pending.slice(0, cut));
      pending = pending.slice(cut);
    }
    return pending;
  }

  /** The bytes of `ids` joined. Throws on an id that is not in the vocabulary. */
  decodeBytes(ids: readonly number[] | ArrayLike<number>): Uint8Array {
    const { bytes, offsets } = this.tokens;
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const length = Number.isInteger(id) && id >= 0 && id < this.vocabSize ? offsets[id + 1]! - offsets[id]! : 0;
      if (length === 0) throw new RangeError(`Tokenizer.decode: id ${id} at index ${i} is not in the vocabulary (ids are 0..${this.vocabSize - 1})`);
      total += length;
    }
    const out = new Uint8Array(total);
    let offset = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      // Tokens are a few bytes: a plain loop beats making a subarray for each.
      for (let k = offsets[id]!, end = offsets[id + 1]!; k < end; k++) out[offset++] = bytes[k]!;
    }
    return out;
  }

  /** Text of `ids`; byte sequences that are not valid UTF-8 become U+FFFD. */
  decode(ids: readonly number[] | ArrayLike<number>): string {
    return this.utf8Decoder.decode(this.decodeBytes(ids));
  }

  /**
   * sha256 (hex) of the vocab, merges and special tokens: two tokenizers with the same hash encode
   * alike. Token files and checkpoints record it to catch a tokenizer mix-up.
   */
  hash(): string {
    if (this.hashHex !== undefined) return this.hashHex;
    // One buffer, hashed once. The layout (little-endian u32 lengths; merges as the bytes of their
    // two sides, which the merge triples name) is what checkpoints recorded when this was many
    // node:crypto updates over the vocab and merges, so the hex is unchanged.
    const utf8 = new TextEncoder();
    const tag = utf8.encode('cs336-tokenizer/v1');
    const specials = utf8.encode(JSON.stringify(this.specialTokens));
    const { offsets } = this.tokens;
    const triples = this.compiledBpe.mergeTriples;
    const lengthOf = (id: number) => offsets[id + 1]! - offsets[id]!;
    let size = tag.length + 4 + 4 + specials.length;
    for (let id = 0; id < this.vocabSize; id++) if (lengthOf(id) > 0) size += 8 + lengthOf(id);
    for (let i = 0; i < triples.length; i += 3) size += 8 + lengthOf(triples[i]!) + lengthOf(triples[i + 1]!);
    const buffer = new Uint8Array(size);
    const view = new DataView(buffer.buffer);
    let offset = 0;
    const u32 = (value: number) => {
      view.setUint32(offset, value, true);
      offset += 4;
    };
    const put = (bytes: Uint8Array) => {
      buffer.set(bytes, offset);
      offset += bytes.length;
    };
    const putToken = (id: number) => {
      u32(lengthOf(id));
      put(this.tokens.bytes.subarray(offsets[id]!, offsets[id + 1]!));
    };
    put(tag);
    u32(this.vocabSize);
    for (let id = 0; id < this.vocabSize; id++) {
      if (lengthOf(id) === 0) continue;
      u32(id);
      putToken(id);
    }
    u32(triples.length / 3);
    for (let i = 0; i < triples.length; i += 3) {
      putToken(triples[i]!);
      putToken(triples[i + 1]!);
    }
    put(specials);
    this.hashHex = bytesToHex(sha256(buffer));
    return this.hashHex;
  }
}
