/**
 * A byte-level BPE tokenizer with GPT-2's exact semantics (tiktoken's `gpt2` ids on GPT-2's files).
 * This class is the policy layer: validation, files, decoding, streaming, hashing, file encoding.
 * The hot path is BpeEncoder (bpe-encoder.ts).
 *
 * Lone UTF-16 surrogates (not valid Unicode) are encoded as U+FFFD's bytes EF BF BD, exactly what
 * `TextEncoder` does, so `encode(s)` equals encoding `new TextEncoder().encode(s)`.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseGpt2Merges, parseGpt2Vocab, readTokenizerJson } from '@cs336/bpe';
import { BpeEncoder, MergeError, compileBpe, type CompiledBpe } from './bpe-encoder.js';
import { encodeFile, type EncodeFileOptions, type EncodeFileResult } from './encode-file.js';
import { lastSafeCutInText } from './safe-boundary.js';

/** The data a tokenizer is built from. */
export interface TokenizerModel {
  vocab: ReadonlyMap<number, Uint8Array>;
  merges: readonly (readonly [Uint8Array, Uint8Array])[];
  specialTokens: readonly string[];
}

/** encodeIterable encodes at most about this many UTF-16 units per step. */
const STREAM_WINDOW = 1 << 20;

export class Tokenizer {
  /** One more than the largest token id (the embedding table size), special tokens included. */
  readonly vocabSize: number;
  /** Special tokens, in the order given. */
  readonly specialTokens: readonly string[];
  private readonly tokenBytes: (Uint8Array | undefined)[];
  private readonly compiledBpe: CompiledBpe;
  private readonly encoder: BpeEncoder;
  private readonly model: TokenizerModel;
  private readonly utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  private hashHex: string | undefined;

  /**
   * `vocab`: id → token bytes; `merges`: pairs of token bytes in merge order (first = applied first);
   * `specialTokens`: strings always encoded as one token. A special token missing from the vocab is
   * given the next free id.
   */
  constructor(vocab: ReadonlyMap<number, Uint8Array>, merges: readonly (readonly [Uint8Array, Uint8Array])[], specialTokens: readonly string[] = []) {
    const { compiled, tokenBytes } = compileBpe(vocab, merges, specialTokens);
    this.compiledBpe = compiled;
    this.encoder = new BpeEncoder(compiled);
    this.specialTokens = compiled.specialTokens;
    this.tokenBytes = tokenBytes;
    this.vocabSize = tokenBytes.length;
    this.model = { vocab, merges, specialTokens: compiled.specialTokens };
  }

  /** Reads GPT-2 `vocab.json` + `merges.txt` (or what @cs336/bpe writes). */
  static async fromFiles(vocabPath: string, mergesPath: string, specialTokens: readonly string[] = []): Promise<Tokenizer> {
    const [vocabText, mergesText] = await Promise.all([readFile(vocabPath, 'utf8'), readFile(mergesPath, 'utf8')]);
    const vocab = parseGpt2Vocab(vocabText, vocabPath);
    const merges = parseGpt2Merges(mergesText, mergesPath);
    try {
      return new Tokenizer(vocab, merges, specialTokens);
    } catch (error) {
      if (error instanceof MergeError) {
        // parseGpt2Merges skips a leading #version line; blank lines elsewhere are errors there.
        const line = error.mergeIndex + 1 + (mergesText.startsWith('#version') ? 1 : 0);
        throw new Error(`${mergesPath}:${line}: ${error.message} (vocab: ${vocabPath})`);
      }
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
    const index = this.specialTokens.indexOf(token);
    return index < 0 ? undefined : this.compiledBpe.specialIds[index];
  }

  /** Token ids of `text`. Special tokens in the text become their ids; no other text can produce them. */
  encode(text: string): number[] {
    if (typeof text !== 'string') throw new TypeError(`Tokenizer.encode: expected a string, got ${text === null ? 'null' : typeof text}`);
    return this.encoder.encode(text);
  }

  /** @internal The flat form worker threads rebuild the encoder from (see encode-file.ts). */
  compiled(): CompiledBpe {
    return this.compiledBpe;
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
  encodeFile(input: string, output: string, options: EncodeFileOptions = {}): Promise<EncodeFileResult> {
    return encodeFile(this, input, output, options);
  }
}
