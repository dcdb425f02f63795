/**
 * The dataset step: a (possibly multi-GB) text file → a raw little-endian token file that NumPy can
 * memmap, plus a JSON sidecar saying how to read it.
 *
 * The main thread reads the file in blocks, cuts each block at its last safe boundary (safe-boundary.ts;
 * the remainder is carried into the next block), and hands the pieces to worker threads. Results are
 * written strictly in order, with at most two pieces per worker in flight, so memory stays bounded
 * whatever the file size. Everything goes to temporary files that are renamed only on success.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { lastSafeCutInBytes } from './safe-boundary.js';
import type { CompiledBpe } from './bpe-encoder.js';
import type { Tokenizer } from './tokenizer.js';

export type TokenDtype = 'uint16' | 'uint32';

/** What `<output>.json` holds; the train package reads exactly these fields. */
export interface TokenFileSidecar {
  format: 'cs336-tokens';
  dtype: TokenDtype;
  count: number;
  vocabSize: number;
  tokenizerHash: string;
  source: string;
}

export interface EncodeFileProgress {
  bytesDone: number;
  bytesTotal: number;
  tokens: number;
}

export interface EncodeFileOptions {
  /** Worker threads; 0 encodes on the calling thread. Default: the number of CPUs. */
  workers?: number;
  /**
   * Bytes read per piece of work (before cutting at a safe boundary). Default: a quarter of each
   * worker's share of the file, between 256 KiB and 4 MiB, so small files still spread over all workers.
   */
  chunkBytes?: number;
  onProgress?: (progress: EncodeFileProgress) => void;
}

/** Messages between encodeFile and its workers. */
export interface WorkerInit {
  compiled: CompiledBpe;
  dtype: TokenDtype;
}
export interface WorkerJob {
  index: number;
  bytes: Uint8Array;
}
export interface WorkerResult {
  index: number;
  ids?: Uint16Array | Uint32Array;
  error?: string;
}

export function tokenDtype(vocabSize: number): TokenDtype {
  return vocabSize <= 0x10000 ? 'uint16' : 'uint32';
}

export function idsToTypedArray(ids: readonly number[], dtype: TokenDtype): Uint16Array | Uint32Array {
  return dtype === 'uint16' ? Uint16Array.from(ids) : Uint32Array.from(ids);
}

export async function encodeFile(tokenizer: Tokenizer, input: string, output: string, options: EncodeFileOptions = {}): Promise<TokenFileSidecar> {
  const workers = options.workers ?? os.availableParallelism();
  const chunkBytes = options.chunkBytes ?? (await defaultChunkBytes(input, workers));
  if (!Number.isInteger(workers) || workers < 0) throw new Error(`encodeFile: workers is ${workers}; use 0 (this thread) or a positive integer`);
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1024) throw new Error(`encodeFile: chunkBytes is ${chunkBytes}; use an integer of at least 1024`);
  if (os.endianness() !== 'LE') throw new Error('encodeFile: token files are little-endian and this machine is big-endian; not supported');

  const dtype = tokenDtype(tokenizer.vocabSize);
  const specialBytes = tokenizer.specialTokens.map((token) => new TextEncoder().encode(token));
  const suffix = `${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const binTemp = `${output}.${suffix}`;
  const jsonTemp = `${output}.json.${suffix}`;

  const source = await open(input, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new Error(`encodeFile: cannot read ${input} (${error.code ?? error.message})`);
  });
  let pool: WorkerPool | undefined;
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  const encodeHere = async (bytes: Uint8Array) => idsToTypedArray(tokenizer.encode(decoder.decode(bytes)), dtype);
  let sink: Awaited<ReturnType<typeof open>> | undefined;
  try {
    if (workers > 0) pool = new WorkerPool(workers, { compiled: tokenizer.compiled(), dtype });
    sink = await open(binTemp, 'w').catch((error: NodeJS.ErrnoException) => {
      throw new Error(`encodeFile: cannot write ${output} (${error.code ?? error.message}); does its directory exist?`);
    });
    const bytesTotal = (await source.stat()).size;
    const inFlight: { bytes: number; result: Promise<Uint16Array | Uint32Array> }[] = [];
    let bytesDone = 0;
    let count = 0;
    const writeOldest = async () => {
      const oldest = inFlight.shift()!;
      const ids = await oldest.result;
      const bytes = new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength);
      // A write may be short; keep going until the whole piece is on disk.
      for (let offset = 0; offset < bytes.length; ) offset += (await sink!.write(bytes, offset)).bytesWritten;
      bytesDone += oldest.bytes;
      count += ids.length;
      options.onProgress?.({ bytesDone, bytesTotal, tokens: count });
    };

    let carry = new Uint8Array(0);
    let position = 0;
    let index = 0;
    for (;;) {
      const block = new Uint8Array(carry.length + chunkBytes);
      block.set(carry);
      const { bytesRead } = await source.read(block, carry.length, chunkBytes, position);
      position += bytesRead;
      const data = block.subarray(0, carry.length + bytesRead);
      const atEnd = bytesRead === 0;
      const cut = atEnd ? data.length : lastSafeCutInBytes(data, specialBytes);
      if (cut > 0) {
        const piece = data.slice(0, cut);
        const result = pool ? pool.run({ index: index++, bytes: piece }) : encodeHere(piece);
        inFlight.push({ bytes: cut, result });
        result.catch(() => {}); // awaited in order below; avoid an unhandled rejection meanwhile
        while (inFlight.length > Math.max(1, 2 * workers)) await writeOldest();
      }
      carry = data.slice(cut);
      if (atEnd) break;
    }
    while (inFlight.length > 0) await writeOldest();
    await sink.close();
    sink = undefined;

    const sidecar: TokenFileSidecar = { format: 'cs336-tokens', dtype, count, vocabSize: tokenizer.vocabSize, tokenizerHash: tokenizer.hash(), source: input };
    await writeFile(jsonTemp, `${JSON.stringify(sidecar, null, 2)}\n`);
    await rename(binTemp, output);
    await rename(jsonTemp, `${output}.json`);
    return sidecar;
  } catch (error) {
    await sink?.close().catch(() => {});
    await rm(binTemp, { force: true });
    await rm(jsonTemp, { force: true });
    throw error;
  } finally {
    await source.close();
    await pool?.close();
  }
}

async function defaultChunkBytes(input: string, workers: number): Promise<number> {
  const size = await stat(input).then((s) => s.size, () => 0);
  return Math.min(4 << 20, Math.max(256 << 10, Math.ceil(size / Math.max(1, workers) / 4)));
}

/** The worker script: beside this file when running from dist/, else the built copy (jest runs src/). */
function workerScript(): URL {
  const beside = new URL('./encode-file-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = new URL('../dist/encode-file-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error(`encodeFile: worker script not found (${fileURLToPath(beside)}); build @cs336/tokenizer first (pnpm --filter @cs336/tokenizer build) or pass workers: 0`);
}

/** Worker threads taking jobs from one queue; `run` resolves with that job's ids. */
class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: WorkerJob[] = [];
  private readonly waiting = new Map<number, { resolve: (ids: Uint16Array | Uint32Array) => void; reject: (error: Error) => void }>();
  private failure: Error | undefined;

  constructor(size: number, init: WorkerInit) {
    const script = workerScript();
    for (let i = 0; i < size; i++) {
      const worker = new Worker(script, { workerData: init });
      worker.on('message', (message: WorkerResult) => {
        const waiter = this.waiting.get(message.index);
        this.waiting.delete(message.index);
        if (message.error !== undefined) waiter?.reject(new Error(`encodeFile worker: ${message.error}`));
        else waiter?.resolve(message.ids!);
        this.idle.push(worker);
        this.dispatch();
      });
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`encodeFile worker exited with code ${code}`));
      });
      this.all.push(worker);
      this.idle.push(worker);
    }
  }

  run(job: WorkerJob): Promise<Uint16Array | Uint32Array> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.set(job.index, { resolve, reject });
      this.queue.push(job);
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.idle.pop()!.postMessage(job, [job.bytes.buffer as ArrayBuffer]);
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }

  async close(): Promise<void> {
    this.failure ??= new Error('encodeFile: worker pool closed');
    await Promise.all(this.all.map((worker) => worker.terminate()));
  }
}
