/**
 * One encodeFile job: read a byte range of the file (it starts and ends at safe boundaries) and turn
 * it into ids of the token file's dtype. Runs on a worker thread, or on the caller's with workers: 0.
 *
 * Built so that a job leaves almost no garbage, because on a 2-core machine V8's GC helper threads
 * compete with the encoders themselves: the range is read into a buffer reused across jobs; the text
 * is decoded a small piece at a time (cut at safe boundaries) so each string is short-lived and dies
 * in the young generation instead of being a multi-MB old-space string; ids collect in a reused
 * IdBuffer; and the output goes into a SharedArrayBuffer the main thread hands back after writing it.
 *
 * Why shared rather than transferred buffers: transferring detaches the sender's ArrayBuffer, and
 * V8's optimized code skips detach checks only while no ArrayBuffer in the isolate has ever been
 * detached. Transferring results out of a worker threw away its freshly optimized encoder at the
 * first job and then made every typed-array access pay for the check (about 7% of encode speed,
 * measured). Shared buffers are never detached.
 */
import { readSync } from 'node:fs';
import { checkUtf8, type Utf8Report } from '@cs336/bpe';
import { BpeEncoder, type CompiledBpe } from './bpe-encoder.js';
import { IdBuffer } from './id-buffer.js';
import { lastSafeCutInBytes } from './safe-boundary.js';
import type { TokenDtype } from './token-dtype.js';

/**
 * Bytes of text decoded at once. Kept under V8's large-object threshold (128 KiB) even for
 * two-byte strings, so the strings are allocated and freed in the young generation.
 */
const PIECE_BYTES = 32 << 10;

export class RangeEncoder {
  private readonly encoder: BpeEncoder;
  private readonly specialBytes: Uint8Array[];
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  private readonly ids = new IdBuffer(1 << 16);
  private bytes = new Uint8Array(0);
  /** What the last `encode` found: bytes that were not UTF-8 (read as U+FFFD), offsets in the file. */
  invalidUtf8: Utf8Report = { invalidBytes: 0, firstInvalidOffset: -1 };

  constructor(compiled: CompiledBpe, private readonly dtype: TokenDtype) {
    this.encoder = new BpeEncoder(compiled);
    this.specialBytes = compiled.specialTokens.map((token) => new TextEncoder().encode(token));
  }

  /**
   * The ids of bytes [start, end) of the open file `fd`, in `reuse` when it is big enough (the
   * result is then a view of its first ids), else in a new buffer with some room to spare.
   */
  encode(fd: number, start: number, end: number, reuse?: SharedArrayBuffer): Uint16Array | Uint32Array {
    const bytes = this.read(fd, start, end);
    // Ranges start and end at safe boundaries, before an ASCII byte, so counting each alone is exact.
    const invalid = checkUtf8(bytes);
    this.invalidUtf8 = { invalidBytes: invalid.invalidBytes, firstInvalidOffset: invalid.firstInvalidOffset < 0 ? -1 : start + invalid.firstInvalidOffset };
    const ids = this.ids;
    ids.clear();
    for (let from = 0; from < bytes.length; ) {
      const to = nextPieceEnd(bytes, from, this.specialBytes);
      this.encoder.encodeInto(this.decoder.decode(bytes.subarray(from, to)), ids);
      from = to;
    }
    const width = this.dtype === 'uint16' ? 2 : 4;
    const buffer = reuse && reuse.byteLength >= ids.length * width ? reuse : new SharedArrayBuffer(Math.ceil(ids.length * 1.25) * width);
    const out = this.dtype === 'uint16' ? new Uint16Array(buffer, 0, ids.length) : new Uint32Array(buffer, 0, ids.length);
    out.set(ids.view());
    return out;
  }

  private read(fd: number, start: number, end: number): Uint8Array {
    const length = end - start;
    if (this.bytes.length < length) this.bytes = new Uint8Array(Math.ceil(length * 1.25));
    for (let done = 0; done < length; ) {
      const read = readSync(fd, this.bytes, done, length - done, start + done);
      if (read === 0) throw new Error(`encodeFile: the input ended at byte ${start + done}, before its size when encoding began; was it changed meanwhile?`);
      done += read;
    }
    return this.bytes.subarray(0, length);
  }
}

/**
 * The end of the piece starting at `from` (a safe boundary): the last safe cut within PIECE_BYTES,
 * looking further when there is none, or the end of `bytes`. A cut of a prefix that starts at a safe
 * boundary is a safe cut of the whole, as no special token spans that start.
 */
function nextPieceEnd(bytes: Uint8Array, from: number, specialBytes: readonly Uint8Array[]): number {
  for (let window = PIECE_BYTES; from + window < bytes.length; window *= 2) {
    const cut = lastSafeCutInBytes(bytes.subarray(from, from + window), specialBytes);
    if (cut > 0) return from + cut;
  }
  return bytes.length;
}
