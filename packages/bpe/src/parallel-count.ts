/**
 * Streams the training input, cuts it into chunks at safe boundaries (see findChunkCut) and
 * counts pre-tokens on worker threads, one per core by default. An input that fits in one chunk
 * is counted on the calling thread: starting workers would cost more than it saves.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { countChunk, findChunkCut, PretokenTable } from './count-pretokens.js';
import type { PackedPretokenTable } from './pretoken-table.js';
import { specialTokenPattern } from './pretokenize.js';
import { Utf8Check, type Utf8Report } from './utf8-check.js';

export interface CountInputOptions {
  specialTokens: readonly string[];
  /** Worker threads; 0 counts on the calling thread. */
  workers: number;
  /** Target chunk size in UTF-16 code units. */
  chunkChars: number;
  /** Throw at the first byte that is not UTF-8 instead of reading it as U+FFFD. */
  strictUtf8?: boolean;
  onBytes?: (bytesDone: number, bytesTotal: number | undefined) => void;
}

export interface CountedInput {
  counts: PretokenTable;
  /** UTF-8 bytes read (of the file; of the strings, for an iterable). */
  bytes: number;
  /** Bytes of the file that were not UTF-8 (read as U+FFFD); 0 for an iterable of strings. */
  invalidUtf8: Utf8Report;
}

const READ_BYTES = 1 << 20;

/**
 * The input as decoded text pieces. Invalid UTF-8 decodes to U+FFFD (WHATWG replacement, as
 * Python's errors="replace") and is counted in `check`, or with `strict` throws; a leading
 * byte-order mark is kept as text, as Python's "utf-8" does.
 */
async function* readText(input: string | AsyncIterable<string>, check: Utf8Check, strict: boolean): AsyncGenerator<{ text: string; bytesRead: number }> {
  if (typeof input !== 'string') {
    let bytesRead = 0;
    for await (const text of input) {
      if (typeof text !== 'string') throw new Error(`trainBpe: the input iterable must yield strings; got ${typeof text}`);
      bytesRead += Buffer.byteLength(text, 'utf8');
      yield { text, bytesRead };
    }
    return;
  }
  const handle = await openInput(input);
  try {
    const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    const buffer = new Uint8Array(READ_BYTES);
    let bytesRead = 0;
    for (;;) {
      const { bytesRead: n } = await handle.read(buffer, 0, READ_BYTES, null);
      if (n === 0) break;
      bytesRead += n;
      check.push(buffer.subarray(0, n));
      if (strict) refuseInvalid(input, check.report);
      yield { text: decoder.decode(buffer.subarray(0, n), { stream: true }), bytesRead };
    }
    if (strict) refuseInvalid(input, check.end());
    const tail = decoder.decode();
    if (tail) yield { text: tail, bytesRead };
  } finally {
    await handle.close();
  }
}

function refuseInvalid(input: string, report: Utf8Report): void {
  if (report.invalidBytes > 0) throw new Error(`trainBpe: the input ${JSON.stringify(input)} is not valid UTF-8: byte ${report.firstInvalidOffset} is not part of a UTF-8 character (strictUtf8)`);
}

async function openInput(path: string): Promise<fs.promises.FileHandle> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`trainBpe: input file ${JSON.stringify(path)} does not exist; pass a path to a UTF-8 text file`);
    if (code === 'EACCES') throw new Error(`trainBpe: input file ${JSON.stringify(path)} is not readable (permission denied)`);
    throw new Error(`trainBpe: cannot open input file ${JSON.stringify(path)}: ${(error as Error).message}`);
  }
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw new Error(`trainBpe: input ${JSON.stringify(path)} is not a regular file; pass a path to a UTF-8 text file`);
  }
  return handle;
}

async function inputSize(input: string | AsyncIterable<string>): Promise<number | undefined> {
  return typeof input === 'string' ? (await fs.promises.stat(input).catch(() => undefined))?.size : undefined;
}

/** Counts the pre-tokens of the whole input. */
export async function countInput(input: string | AsyncIterable<string>, options: CountInputOptions): Promise<CountedInput> {
  const pattern = options.specialTokens.length > 0 ? specialTokenPattern(options.specialTokens) : null;
  const maxSpecialLength = Math.max(0, ...options.specialTokens.map((t) => t.length));
  const total = await inputSize(input);
  let pool: CountPool | null = null;
  const inline = new PretokenTable(); // workers: 0, or an input of one chunk
  let pending = '';
  let checkedUpTo = 0; // of `pending`: no whitespace cut at or before it
  let bytesRead = 0;
  const check = new Utf8Check();
  try {
    for await (const piece of readText(input, check, options.strictUtf8 === true)) {
      pending += piece.text;
      bytesRead = piece.bytesRead;
      while (pending.length >= options.chunkChars) {
        const cut = findChunkCut(pending, pattern, maxSpecialLength, checkedUpTo);
        if (cut === 0) {
          checkedUpTo = Math.max(0, pending.length - Math.max(1, maxSpecialLength));
          break; // no safe cut yet: read on
        }
        checkedUpTo = 0;
        if (options.workers === 0) {
          countChunk(pending.slice(0, cut), pattern, inline);
          options.onBytes?.(bytesRead, total);
        } else {
          pool ??= new CountPool(options.workers, pattern, (bytes) => options.onBytes?.(bytes, total));
          await pool.submit(pending.slice(0, cut), bytesRead);
        }
        pending = pending.slice(cut);
      }
    }
    if (pool === null) {
      countChunk(pending, pattern, inline);
      options.onBytes?.(bytesRead, total);
      return { counts: inline, bytes: bytesRead, invalidUtf8: check.end() };
    }
    if (pending.length > 0) await pool.submit(pending, bytesRead);
    return { counts: await pool.finish(), bytes: bytesRead, invalidUtf8: check.end() };
  } finally {
    await pool?.terminate();
  }
}

interface WorkerState {
  worker: Worker;
  inFlight: number;
}

/** Worker threads fed round-robin by load, at most two chunks queued per worker. */
class CountPool {
  private readonly states: WorkerState[] = [];
  private readonly bytesAtChunk = new Map<number, number>();
  private nextId = 0;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;

  constructor(size: number, pattern: RegExp | null, private readonly onBytes: (bytes: number) => void) {
    const entry = workerEntry();
    for (let i = 0; i < size; i++) {
      const worker = new Worker(entry.url, { workerData: { specialSource: pattern?.source ?? null } });
      const state: WorkerState = { worker, inFlight: 0 };
      worker.on('message', (message: { counted?: number }) => {
        if (message.counted === undefined) return;
        state.inFlight--;
        const bytes = this.bytesAtChunk.get(message.counted);
        this.bytesAtChunk.delete(message.counted);
        try {
          if (bytes !== undefined) this.onBytes(bytes);
        } catch (error) {
          // A throwing onProgress must fail the training, not crash the process from an event handler.
          this.fail(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        this.notify();
      });
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => { if (code !== 0) this.fail(new Error(`pre-token counting worker exited with code ${code}`)); });
      this.states.push(state);
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private async waitForEvent(): Promise<void> {
    if (this.failure) throw this.failure;
    await new Promise<void>((resolve) => { this.wake = resolve; });
    if (this.failure) throw this.failure;
  }

  async submit(chunk: string, bytesRead: number): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      const idle = this.states.reduce((best, s) => (s.inFlight < best.inFlight ? s : best));
      if (idle.inFlight < 2) {
        const id = this.nextId++;
        this.bytesAtChunk.set(id, bytesRead);
        idle.inFlight++;
        idle.worker.postMessage({ id, chunk });
        return;
      }
      await this.waitForEvent();
    }
  }

  /**
   * Waits for every chunk, collects each worker's table (moved, not copied) and sums them into
   * the largest, so that the peak is the union plus the smaller tables, not a copy of every table.
   */
  async finish(): Promise<PretokenTable> {
    if (this.failure) throw this.failure;
    const results = this.states.map((state) => new Promise<PackedPretokenTable>((resolve, reject) => {
      state.worker.on('message', (message: { packed?: PackedPretokenTable }) => { if (message.packed) resolve(message.packed); });
      state.worker.once('error', reject);
      state.worker.once('exit', () => reject(this.failure ?? new Error('pre-token counting worker exited before sending its counts')));
      state.worker.postMessage({ finish: true });
    }));
    const packed = await Promise.all(results);
    if (this.failure) throw this.failure;
    packed.sort((x, y) => x.size - y.size);
    const counts = PretokenTable.fromPacked(packed.pop()!);
    for (let next = packed.pop(); next !== undefined; next = packed.pop()) counts.addAll(PretokenTable.fromPacked(next));
    return counts;
  }

  async terminate(): Promise<void> {
    await Promise.all(this.states.map((s) => s.worker.terminate()));
  }
}

/**
 * Where the worker's code is. Built: count-worker.js beside this file (dist/). From source
 * (jest, tsx): count-worker.ts beside this file, run through the tsx loader; failing that, the
 * package's built dist/count-worker.js.
 */
function workerEntry(): { url: URL } {
  const built = new URL('./count-worker.js', import.meta.url);
  if (fs.existsSync(fileURLToPath(built))) return { url: built };
  const source = new URL('./count-worker.ts', import.meta.url);
  if (fs.existsSync(fileURLToPath(source))) {
    try {
      // A tiny ESM bootstrap that registers tsx's loader in the worker, then loads the source.
      const tsxApi = tsxEsmApiUrl();
      const bootstrap = `const { register } = await import(${JSON.stringify(tsxApi)}); register(); await import(${JSON.stringify(source.href)});`;
      return { url: new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`) };
    } catch {
      // no tsx here: try the build below
    }
  }
  const dist = new URL('../dist/count-worker.js', import.meta.url);
  if (fs.existsSync(fileURLToPath(dist))) return { url: dist };
  throw new Error(`trainBpe: cannot find the counting worker (looked for ${fileURLToPath(built)} and ${fileURLToPath(dist)}); build @cs336/bpe or pass workers: 0`);
}

/** tsx's ESM API entry (createRequire resolves the CommonJS one, so read the export map). */
function tsxEsmApiUrl(): string {
  const packageJson = createRequire(import.meta.url).resolve('tsx/package.json');
  const manifest = JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  const entry = manifest.exports['./esm/api']?.import.default;
  if (!entry) throw new Error('tsx has no ./esm/api export');
  return new URL(entry, pathToFileURL(packageJson)).href;
}
