/**
 * Token files: the flat little-endian uint16 (or uint32) arrays the tokenizer writes, np.memmap layout,
 * with an optional sidecar `<file>.json` ({"format":"cs336-tokens","dtype","count","vocabSize",...}).
 *
 * Reads are positional (fs.readSync at an offset), so a multi-GB corpus is never loaded whole; each
 * batch reads B windows of T+1 tokens. Notation: B = batch size, T = context length.
 *
 * Nothing is guessed: the dtype comes from the sidecar or an explicit option (a raw file cannot say
 * whether it holds uint16 or uint32 ids, and the wrong guess trains on garbage), and `scanIds` checks
 * every id against the vocabulary before training starts.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Random } from './random.js';

export type TokenDType = 'uint16' | 'uint32';

/** The sidecar the tokenizer writes next to a `.bin` token file. */
export interface TokenFileSidecar {
  format: 'cs336-tokens';
  dtype: TokenDType;
  count: number;
  vocabSize: number;
  tokenizerHash?: string;
  source?: string;
}

export interface TokenFileOptions {
  /** Required when there is no sidecar; with one, it must agree with the sidecar's. */
  dtype?: TokenDType;
  /** Every id read must be below this; defaults to the sidecar's vocabSize. */
  vocabSize?: number;
}

const BYTES: Record<TokenDType, number> = { uint16: 2, uint32: 4 };

/** `<file>.json` first (data.bin.json), then the name with its extension swapped (data.json). */
export function sidecarPath(file: string): string | undefined {
  const candidates = [`${file}.json`, path.join(path.dirname(file), `${path.parse(file).name}.json`)];
  return candidates.find((candidate) => candidate !== file && fs.existsSync(candidate));
}

function readSidecar(file: string): TokenFileSidecar | undefined {
  const where = sidecarPath(file);
  if (!where) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(where, 'utf8'));
  } catch (error) {
    throw new Error(`${where}: the token-file sidecar is not valid JSON (${(error as Error).message})`);
  }
  const sidecar = parsed as Partial<TokenFileSidecar>;
  if (sidecar.format !== 'cs336-tokens') return undefined; // some other JSON that happens to sit there
  if (sidecar.dtype !== 'uint16' && sidecar.dtype !== 'uint32') {
    throw new Error(`${where}: dtype must be "uint16" or "uint32", got ${JSON.stringify(sidecar.dtype)}`);
  }
  return sidecar as TokenFileSidecar;
}

export class TokenFile {
  private constructor(
    readonly path: string,
    private readonly fd: number,
    readonly dtype: TokenDType,
    /** Number of tokens in the file. */
    readonly length: number,
    readonly vocabSize: number | undefined,
    readonly sidecar: TokenFileSidecar | undefined,
  ) {}

  static open(file: string, options: TokenFileOptions = {}): TokenFile {
    const sidecar = readSidecar(file);
    if (sidecar && options.dtype && options.dtype !== sidecar.dtype) {
      throw new Error(`${file}: the sidecar says dtype ${sidecar.dtype} but ${options.dtype} was asked for; drop the dtype option or fix the sidecar`);
    }
    if (options.dtype !== undefined && options.dtype !== 'uint16' && options.dtype !== 'uint32') {
      throw new Error(`${file}: dtype must be "uint16" or "uint32", got ${JSON.stringify(options.dtype)}`);
    }
    const dtype = sidecar?.dtype ?? options.dtype;
    if (dtype === undefined) {
      throw new Error(`${file}: no sidecar (${file}.json) says whether it holds uint16 or uint32 ids; give the dtype (cs336 train --data-dtype uint16|uint32, or "dataDtype" in the config), or write the file with cs336 tokenize`);
    }
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (error) {
      throw new Error(`cannot open token file ${file}: ${(error as Error).message}`);
    }
    const bytes = fs.fstatSync(fd).size;
    if (bytes % BYTES[dtype] !== 0) {
      fs.closeSync(fd);
      throw new Error(`${file}: ${bytes} bytes is not a whole number of ${dtype} tokens; is the dtype right?`);
    }
    const length = bytes / BYTES[dtype];
    if (sidecar && sidecar.count !== length) {
      fs.closeSync(fd);
      throw new Error(`${file}: the sidecar says ${sidecar.count} tokens but the file holds ${length}; the file is truncated or the sidecar stale`);
    }
    const vocabSize = options.vocabSize ?? sidecar?.vocabSize;
    if (vocabSize !== undefined && sidecar?.vocabSize !== undefined && vocabSize < sidecar.vocabSize) {
      fs.closeSync(fd);
      throw new Error(`${file}: tokenized with a vocabulary of ${sidecar.vocabSize} but the model has only ${vocabSize}; retokenize or enlarge vocabSize`);
    }
    return new TokenFile(file, fd, dtype, length, vocabSize, sidecar);
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  /**
   * Reads the whole file in chunks and throws at the first id ≥ `vocabSize`, naming its position and
   * value. Per 1 MB chunk (it stays in cache) it only takes the maximum of a typed-array view; the position is
   * looked up only in a chunk that fails. Returns the largest id (−1 for an empty file).
   */
  scanIds(vocabSize: number, chunkBytes = 1 << 20): number {
    const width = BYTES[this.dtype];
    const chunkTokens = Math.max(1, Math.floor(chunkBytes / width));
    // An ArrayBuffer of our own: a pooled Buffer's offset may not be aligned for a Uint32Array view.
    const bytes = new Uint8Array(new ArrayBuffer(Math.min(chunkTokens, Math.max(this.length, 1)) * width));
    let largest = -1;
    for (let start = 0; start < this.length; start += chunkTokens) {
      const count = Math.min(chunkTokens, this.length - start);
      let done = 0;
      while (done < count * width) {
        const n = fs.readSync(this.fd, bytes, done, count * width - done, start * width + done);
        if (n === 0) throw new Error(`${this.path}: unexpected end of file at byte ${start * width + done}`);
        done += n;
      }
      const ids = width === 2 ? new Uint16Array(bytes.buffer, 0, count) : new Uint32Array(bytes.buffer, 0, count);
      let max = 0;
      for (let i = 0; i < count; i++) if (ids[i]! > max) max = ids[i]!;
      if (max >= vocabSize) {
        const at = ids.findIndex((id) => id >= vocabSize);
        throw new Error(`${this.path}: token id ${ids[at]} at token offset ${start + at} is not below the vocabulary size ${vocabSize}; the data was tokenized with another tokenizer, or read with the wrong dtype (${this.dtype})`);
      }
      largest = Math.max(largest, max);
    }
    return largest;
  }

  /** Reads `count` tokens starting at token `start` into `out` (as numbers), checking each id against the vocabulary. */
  read(start: number, count: number): Int32Array;
  read<A extends Int32Array | BigInt64Array>(start: number, count: number, out: A, outOffset?: number): A;
  read(start: number, count: number, out: Int32Array | BigInt64Array = new Int32Array(count), outOffset = 0): Int32Array | BigInt64Array {
    if (!Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(count) || count < 0 || start + count > this.length) {
      throw new Error(`${this.path}: cannot read tokens [${start}, ${start + count}) of a file with ${this.length} tokens`);
    }
    const width = BYTES[this.dtype];
    const buffer = Buffer.allocUnsafe(count * width);
    let done = 0;
    while (done < buffer.length) {
      const n = fs.readSync(this.fd, buffer, done, buffer.length - done, start * width + done);
      if (n === 0) throw new Error(`${this.path}: unexpected end of file at byte ${start * width + done}`);
      done += n;
    }
    const big = out instanceof BigInt64Array;
    for (let i = 0; i < count; i++) {
      const id = width === 2 ? buffer.readUInt16LE(i * 2) : buffer.readUInt32LE(i * 4);
      if (this.vocabSize !== undefined && id >= this.vocabSize) {
        throw new Error(`${this.path}: token id ${id} at token offset ${start + i} is not below the vocabulary size ${this.vocabSize}; the data was tokenized with another tokenizer`);
      }
      if (big) (out as BigInt64Array)[outOffset + i] = BigInt(id);
      else (out as Int32Array)[outOffset + i] = id;
    }
    return out;
  }
}

export interface Batch {
  /** [B, T] token ids. */
  inputs: BigInt64Array;
  /** [B, T] the next token after each input position. */
  targets: BigInt64Array;
}

function checkWindow(tokens: TokenFile, batchSize: number, windowLength: number): void {
  if (!Number.isSafeInteger(batchSize) || batchSize <= 0) throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  if (!Number.isSafeInteger(windowLength) || windowLength < 2) throw new Error(`context length must be a positive integer, got ${windowLength - 1}`);
  if (tokens.length < windowLength) {
    throw new Error(`${tokens.path}: ${tokens.length} tokens cannot fill one window of ${windowLength} (context ${windowLength - 1} + 1); use a shorter context or more data`);
  }
}

/**
 * B random windows of `windowLength` tokens, flat [B, windowLength] as int64 (what ORT's Gather takes).
 * Window starts are uniform over every position that leaves a full window.
 */
export function sampleWindows(tokens: TokenFile, batchSize: number, windowLength: number, random: Random, out = new BigInt64Array(batchSize * windowLength), outOffset = 0): BigInt64Array {
  checkWindow(tokens, batchSize, windowLength);
  const starts = tokens.length - windowLength + 1;
  for (let b = 0; b < batchSize; b++) {
    tokens.read(random.nextInt(starts), windowLength, out, outOffset + b * windowLength);
  }
  return out;
}

/** nanoGPT's get_batch: B random windows, targets = inputs shifted left by one. */
export function getBatch(tokens: TokenFile, batchSize: number, contextLength: number, random: Random): Batch {
  const windows = sampleWindows(tokens, batchSize, contextLength + 1, random);
  return splitWindows(windows, batchSize, contextLength);
}

/** Splits flat [B, T+1] windows into inputs [B, T] and targets [B, T]. */
export function splitWindows(windows: BigInt64Array, batchSize: number, contextLength: number): Batch {
  const inputs = new BigInt64Array(batchSize * contextLength);
  const targets = new BigInt64Array(batchSize * contextLength);
  for (let b = 0; b < batchSize; b++) {
    const row = windows.subarray(b * (contextLength + 1), (b + 1) * (contextLength + 1));
    inputs.set(row.subarray(0, contextLength), b * contextLength);
    targets.set(row.subarray(1), b * contextLength);
  }
  return { inputs, targets };
}

/**
 * The validation set in order: consecutive windows of T+1 tokens with stride T (each token is a target
 * once), grouped B at a time; the last partial batch is dropped so every batch has the same shape.
 * `maxBatches` caps the pass for periodic evaluation.
 */
/** How many full batches sequentialWindows yields without a cap: ⌊⌊(n − 1)/T⌋ / B⌋. */
export function sequentialBatchCount(tokens: TokenFile, batchSize: number, contextLength: number): number {
  return Math.floor(Math.max(0, Math.floor((tokens.length - 1) / contextLength)) / batchSize);
}

export function* sequentialWindows(tokens: TokenFile, batchSize: number, contextLength: number, maxBatches = Infinity): Generator<BigInt64Array> {
  checkWindow(tokens, batchSize, contextLength + 1);
  const windowCount = Math.floor((tokens.length - 1) / contextLength);
  const batches = Math.min(maxBatches, Math.floor(windowCount / batchSize));
  if (batches === 0) {
    throw new Error(`${tokens.path}: ${tokens.length} tokens give ${windowCount} windows of ${contextLength + 1}, fewer than one batch of ${batchSize}; lower the eval batch size`);
  }
  for (let batch = 0; batch < batches; batch++) {
    const out = new BigInt64Array(batchSize * (contextLength + 1));
    for (let b = 0; b < batchSize; b++) {
      tokens.read((batch * batchSize + b) * contextLength, contextLength + 1, out, b * (contextLength + 1));
    }
    yield out;
  }
}

/**
 * The largest id over a token file's bytes fed in order, in chunks of any length: a chunk may end in
 * the middle of an id, whose first bytes wait for the next chunk. This lets the hashing pass that
 * identifies a file (run-identity.ts) check its ids too, so the file is read once.
 */
export class LargestIdScanner {
  largest = -1;
  private readonly width: number;
  private readonly pending: Uint8Array;
  private pendingBytes = 0;

  constructor(dtype: TokenDType) {
    this.width = BYTES[dtype];
    this.pending = new Uint8Array(this.width);
  }

  push(chunk: Uint8Array): void {
    let offset = 0;
    if (this.pendingBytes > 0) {
      offset = Math.min(this.width - this.pendingBytes, chunk.length);
      this.pending.set(chunk.subarray(0, offset), this.pendingBytes);
      this.pendingBytes += offset;
      if (this.pendingBytes < this.width) return;
      this.take(this.pending, 0, 1);
      this.pendingBytes = 0;
    }
    const count = Math.floor((chunk.length - offset) / this.width);
    this.take(chunk, offset, count);
    const rest = chunk.subarray(offset + count * this.width);
    this.pending.set(rest);
    this.pendingBytes = rest.length;
  }

  private take(bytes: Uint8Array, offset: number, count: number): void {
    if (count === 0) return;
    // Typed-array views need an aligned offset; copy the (rare) unaligned chunk.
    const start = bytes.byteOffset + offset;
    const aligned = start % this.width === 0 ? bytes : bytes.slice(offset, offset + count * this.width);
    const at = aligned === bytes ? start : 0;
    const ids = this.width === 2 ? new Uint16Array(aligned.buffer, at, count) : new Uint32Array(aligned.buffer, at, count);
    let max = this.largest;
    for (let i = 0; i < count; i++) if (ids[i]! > max) max = ids[i]!;
    this.largest = max;
  }
}
