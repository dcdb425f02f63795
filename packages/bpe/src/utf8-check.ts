/**
 * Counting the input bytes that are not UTF-8. TextDecoder (like Python's errors="replace")
 * turns each maximal ill-formed subsequence into one U+FFFD without a word; callers that want to
 * tell the user, or to refuse such input, count the bytes it replaced here.
 *
 * The hot path is Node's `isUtf8` (simdutf: many GB/s, next to nothing beside BPE's tens of MB/s);
 * only a chunk that fails it is walked byte by byte, with the WHATWG decoder's state machine, so
 * the count is exactly the bytes the decoder replaced.
 */
import { isUtf8 } from 'node:buffer';

/** What a check found: how many bytes were not UTF-8, and where the first one was (-1: none). */
export interface Utf8Report {
  invalidBytes: number;
  firstInvalidOffset: number;
}

/**
 * A streaming check over byte chunks cut anywhere (a character may straddle two chunks). Feed every
 * chunk to `push`, then call `end`; `report` is the running total.
 */
export class Utf8Check {
  private invalid = 0;
  private first = -1;
  /** Absolute offset of the next byte to be pushed. */
  private offset = 0;
  // WHATWG UTF-8 decoder state: continuation bytes still needed and seen, their allowed range,
  // and where the character being read started.
  private needed = 0;
  private seen = 0;
  private lower = 0x80;
  private upper = 0xbf;
  private start = 0;

  get report(): Utf8Report {
    return { invalidBytes: this.invalid, firstInvalidOffset: this.first };
  }

  push(chunk: Uint8Array): void {
    const base = this.offset;
    let i = 0;
    // Finish a character begun in the previous chunk (at most 3 bytes), one byte at a time.
    for (; this.needed > 0 && i < chunk.length; i++) this.step(chunk[i]!, base + i);
    const tail = incompleteTailStart(chunk, i);
    // Fast path: the body is valid; only a character cut by the chunk's end needs the state machine.
    for (let j = isUtf8(chunk.subarray(i, tail)) ? tail : i; j < chunk.length; j++) this.step(chunk[j]!, base + j);
    this.offset = base + chunk.length;
  }

  /** The end of the input: a character still incomplete is invalid. */
  end(): Utf8Report {
    if (this.needed > 0) this.fail(this.start, this.seen + 1);
    this.reset();
    return this.report;
  }

  private step(byte: number, at: number): void {
    if (this.needed === 0) {
      this.start = at;
      if (byte <= 0x7f) return;
      if (byte >= 0xc2 && byte <= 0xdf) {
        this.needed = 1;
      } else if (byte >= 0xe0 && byte <= 0xef) {
        if (byte === 0xe0) this.lower = 0xa0;
        if (byte === 0xed) this.upper = 0x9f;
        this.needed = 2;
      } else if (byte >= 0xf0 && byte <= 0xf4) {
        if (byte === 0xf0) this.lower = 0x90;
        if (byte === 0xf4) this.upper = 0x8f;
        this.needed = 3;
      } else {
        this.fail(at, 1);
      }
      return;
    }
    if (byte < this.lower || byte > this.upper) {
      // The started sequence is ill-formed: its bytes are replaced, and this byte starts afresh.
      this.fail(this.start, this.seen + 1);
      this.reset();
      this.step(byte, at);
      return;
    }
    this.lower = 0x80;
    this.upper = 0xbf;
    if (++this.seen === this.needed) this.reset();
  }

  private fail(at: number, count: number): void {
    if (this.first < 0) this.first = at;
    this.invalid += count;
  }

  private reset(): void {
    this.needed = 0;
    this.seen = 0;
    this.lower = 0x80;
    this.upper = 0xbf;
  }
}

/**
 * Where a multi-byte character that runs past the end of `chunk` starts (chunk.length when none):
 * the last lead byte within 3 bytes of the end whose sequence needs more bytes than remain.
 */
function incompleteTailStart(chunk: Uint8Array, from: number): number {
  for (let i = chunk.length - 1; i >= Math.max(from, chunk.length - 3); i--) {
    const byte = chunk[i]!;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: look further back
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return chunk.length - i < length ? i : chunk.length;
  }
  return chunk.length;
}

/** The invalid bytes of a complete text (it ends where `bytes` ends). */
export function checkUtf8(bytes: Uint8Array): Utf8Report {
  if (isUtf8(bytes)) return { invalidBytes: 0, firstInvalidOffset: -1 };
  const check = new Utf8Check();
  check.push(bytes);
  return check.end();
}
