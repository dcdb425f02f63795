/**
 * The fast byte-level BPE trainer, with the CS336 semantics (see reference-bpe.ts for the slow,
 * obvious version it is tested against). Training runs in numbered steps:
 *   1. validate the config;
 *   2. stream the input and count pre-tokens on worker threads (parallel-count.ts);
 *   3. turn each distinct pre-token into a word of byte symbols, weighted by its count;
 *   4. count adjacent pairs once, index which words contain each byte pair, and heap the pairs;
 *   5. merge: pop the best pair (merge-order.ts), rewrite only the words that contain it,
 *      adjusting pair counts around each occurrence, and push the pairs the merge created;
 *   6. lay out the vocab: special tokens, the 256 bytes, then one token per merge.
 */
import os from 'node:os';
import { countInput } from './parallel-count.js';
import type { PretokenTable } from './pretoken-table.js';
import { compareMergeCandidates } from './merge-order.js';
import { PairHeap } from './pair-heap.js';
import { MAX_NARROW_PAIR, PairTable } from './pair-table.js';
import { PairWordLists } from './pair-word-lists.js';
import { varintLength, WordListWriter, writeVarint } from './word-list-coding.js';
import type { BpeModel } from './reference-bpe.js';

export type { BpeModel } from './reference-bpe.js';

export type BpeProgress =
  | { phase: 'pretokenize'; bytesDone: number; bytesTotal: number | undefined }
  | { phase: 'merge'; mergesDone: number; mergesTotal: number; distinctPretokens: number };

export interface TrainBpeConfig {
  /** Final vocabulary size, counting the 256 bytes and the special tokens. */
  vocabSize: number;
  /** Added to the vocab first (ids 0..); never merged; the text is split on them before pre-tokenization. */
  specialTokens: readonly string[];
  /** Counting threads; 0 counts on the calling thread. Default: one per core. */
  workers: number;
  /** Chunk size handed to a worker, in UTF-16 code units. 1M keeps workers busy and memory low. */
  chunkChars: number;
  /** Refuse input that is not UTF-8 (an error naming the first bad byte) instead of reading it as U+FFFD. */
  strictUtf8: boolean;
  /**
   * Memory knob; the merges are the same for any value. A pair made by a merge with a count below
   * this is not kept (no count, no heap entry, no word list) until the best kept count falls
   * below it, when all pairs are counted again from the words. Most pairs made at OWT scale
   * occur in one or two rare words, and merges of 32k-vocab training stop far above 16.
   */
  pairTrackingMinCount: number;
}

export const DEFAULT_TRAIN_BPE_CONFIG: Readonly<TrainBpeConfig> = Object.freeze({
  vocabSize: 10_000,
  specialTokens: Object.freeze(['<|endoftext|>']),
  workers: Math.max(1, os.availableParallelism()),
  chunkChars: 1 << 20,
  strictUtf8: false,
  pairTrackingMinCount: 16,
});

/** Pair keys are a * (256 + merges) + b, exact while below 2^53. */
const MAX_VOCAB_SIZE = 2 ** 26;

/** Fills defaults and checks every field; throws naming the bad value and the fix. */
export function resolveTrainBpeConfig(partial: Partial<TrainBpeConfig>): Readonly<TrainBpeConfig> {
  const config = { ...DEFAULT_TRAIN_BPE_CONFIG, ...dropUndefined(partial) };
  const specials = config.specialTokens;
  if (!Array.isArray(specials) || specials.some((t) => typeof t !== 'string' || t.length === 0)) {
    throw new Error(`trainBpe: specialTokens must be an array of non-empty strings; got ${JSON.stringify(specials)}`);
  }
  const seen = new Set<string>();
  for (const token of specials) {
    if (seen.has(token)) throw new Error(`trainBpe: special token ${JSON.stringify(token)} is listed twice; list each special token once`);
    seen.add(token);
  }
  const minimum = 256 + specials.length;
  if (!Number.isInteger(config.vocabSize) || config.vocabSize < minimum) {
    throw new Error(`trainBpe: vocabSize ${config.vocabSize} is too small: it must be an integer ≥ 256 bytes + ${specials.length} special token(s) = ${minimum}`);
  }
  if (config.vocabSize > MAX_VOCAB_SIZE) {
    throw new Error(`trainBpe: vocabSize ${config.vocabSize} is above the supported maximum ${MAX_VOCAB_SIZE} (pair keys must stay exact doubles)`);
  }
  if (!Number.isInteger(config.workers) || config.workers < 0) {
    throw new Error(`trainBpe: workers must be an integer ≥ 0 (0 = count on this thread); got ${config.workers}`);
  }
  if (!Number.isInteger(config.chunkChars) || config.chunkChars < 1) {
    throw new Error(`trainBpe: chunkChars must be a positive integer; got ${config.chunkChars}`);
  }
  if (!Number.isInteger(config.pairTrackingMinCount) || config.pairTrackingMinCount < 0) {
    throw new Error(`trainBpe: pairTrackingMinCount must be an integer ≥ 0 (0 keeps every pair); got ${config.pairTrackingMinCount}`);
  }
  if (typeof config.strictUtf8 !== 'boolean') throw new Error(`trainBpe: strictUtf8 must be true or false; got ${JSON.stringify(config.strictUtf8)}`);
  return Object.freeze({ ...config, specialTokens: Object.freeze([...specials]) });
}

function dropUndefined<T extends object>(partial: T): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export interface TrainBpeOptions extends Partial<TrainBpeConfig> {
  /** A path to a UTF-8 text file (invalid bytes decode to U+FFFD and are counted; see strictUtf8), or the text as string pieces. */
  input: string | AsyncIterable<string>;
  vocabSize: number;
  onProgress?: (progress: BpeProgress) => void;
}

/** A trained model, and what reading the input found. */
export interface TrainBpeResult extends BpeModel {
  /** Input bytes that were not UTF-8 and were read as U+FFFD (always 0 with strictUtf8, which throws instead). */
  invalidUtf8Bytes: number;
}

export async function trainBpe(options: TrainBpeOptions): Promise<TrainBpeResult> {
  // 1. Config.
  const { input, onProgress, ...partial } = options;
  const config = resolveTrainBpeConfig(partial);
  if (typeof input !== 'string' && (input === null || typeof input !== 'object' || !(Symbol.asyncIterator in input))) {
    throw new Error('trainBpe: input must be a file path or an AsyncIterable<string>');
  }

  // 2–3. Pre-token counts, then words (the count table is gone once the words are built).
  const mergeTotal = config.vocabSize - 256 - config.specialTokens.length;
  const { words, distinctPretokens, invalidUtf8 } = await countWords(input, config, 256 + mergeTotal, onProgress);

  // 4–5. Merges over byte symbols 0..255; merge i creates symbol 256 + i.
  const learned = learnMerges(words, mergeTotal, config.pairTrackingMinCount, (mergesDone) => onProgress?.({ phase: 'merge', mergesDone, mergesTotal: mergeTotal, distinctPretokens }));

  // 6. Vocab and merges in order.
  const vocab = new Map<number, Uint8Array>();
  const encoder = new TextEncoder();
  for (const token of config.specialTokens) vocab.set(vocab.size, encoder.encode(token));
  for (const token of learned.symbols) vocab.set(vocab.size, token);
  return { vocab, merges: learned.merges, invalidUtf8Bytes: invalidUtf8.invalidBytes };
}

/**
 * Distinct pre-tokens as words of symbols, stored back to back. Symbols are 16-bit while every
 * symbol id fits (vocabularies up to 65,536), which halves the largest array at OWT scale; counts
 * are 32-bit while every count fits.
 */
interface Words {
  symbols: Uint16Array | Int32Array;
  start: Int32Array;
  length: Int32Array;
  count: Uint32Array | Float64Array;
}

async function countWords(input: string | AsyncIterable<string>, config: Readonly<TrainBpeConfig>, symbolLimit: number, onProgress: TrainBpeOptions['onProgress']) {
  const { counts, bytes, invalidUtf8 } = await countInput(input, {
    specialTokens: config.specialTokens,
    workers: config.workers,
    chunkChars: config.chunkChars,
    strictUtf8: config.strictUtf8,
    onBytes: (bytesDone, bytesTotal) => onProgress?.({ phase: 'pretokenize', bytesDone, bytesTotal }),
  });
  if (bytes === 0) {
    throw new Error(`trainBpe: the input ${typeof input === 'string' ? JSON.stringify(input) + ' ' : ''}is empty; BPE needs some text to learn merges from`);
  }
  return { words: buildWords(counts, symbolLimit), distinctPretokens: counts.size, invalidUtf8 };
}

// 3. One word per distinct pre-token of two bytes or more (a single byte has no pair to merge).
function buildWords(counts: PretokenTable, symbolLimit: number): Words {
  let words = 0;
  let total = 0;
  let most = 0;
  counts.forEachBytes((_, start, end, n) => {
    if (end - start < 2) return;
    words++;
    total += end - start;
    most = Math.max(most, n);
  });
  if (total > 2 ** 31 - 1) throw new Error(`trainBpe: the distinct pre-tokens hold ${total} bytes, more than the 2^31 - 1 this trainer indexes`);
  const symbols = symbolLimit <= 1 << 16 ? new Uint16Array(total) : new Int32Array(total);
  const start = new Int32Array(words);
  const length = new Int32Array(words);
  const count = most < 2 ** 32 ? new Uint32Array(words) : new Float64Array(words);
  let w = 0;
  let offset = 0;
  counts.forEachBytes((bytes, from, to, n) => {
    if (to - from < 2) return;
    start[w] = offset;
    length[w] = to - from;
    count[w++] = n;
    symbols.set(bytes.subarray(from, to), offset);
    offset += to - from;
  });
  return { symbols, start, length, count };
}

function learnMerges(words: Words, mergeTotal: number, pairTrackingMinCount: number, onMerge: (mergesDone: number) => void): { symbols: Uint8Array[]; merges: [Uint8Array, Uint8Array][] } {
  const { symbols, start, length, count } = words;
  const symbolBytes: Uint8Array[] = Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));
  const merges: [Uint8Array, Uint8Array][] = [];
  // A pair (a, b) of symbols is the number a * base + b: cheap to hash, exact below 2^53, and
  // below 2^32 (4-byte keys in the pair table and heap) while base ≤ 65,535.
  const base = 256 + mergeTotal;
  const narrowKeys = (base - 1) * base + (base - 1) <= MAX_NARROW_PAIR;
  const pairs = new PairTable(1 << 16, narrowKeys); // pair → live count

  // 4. Initial pair counts and the index "which words contain this pair" (ascending word ids,
  // delta + varint coded: word-list-coding.ts). Three sources, all exact supersets:
  // - a pair of two bytes: its words, all lists in one array (CSR: the list of byte pair p is
  //   byteWords[byteStart[p] .. byteStart[p + 1]));
  // - a kept pair with a merged symbol: its own list (`lists`, pair-word-lists.ts). Such a pair is
  //   created by one merge, so its list is complete when that merge ends and never grows again;
  // - a pair with a merged symbol and no list (made with a count below `trackMin`, counted again
  //   later): the words of that symbol (`symbolWords`). A merged symbol appears only in the merge
  //   that creates it, whose rewritten words are exactly its words, and afterwards only disappears
  //   from words; a symbol's list is rewritten without the words that lost it whenever it is scanned.
  // Typed arrays, not a Map of arrays: at OWT scale this index holds about one entry per byte of
  // the distinct pre-tokens.
  const byteCount = new Float64Array(1 << 16);
  const byteStart = new Float64Array((1 << 16) + 1); // byte offsets (may pass 2^31)
  const lastWord = new Int32Array(1 << 16).fill(-1);
  for (let w = 0; w < start.length; w++) {
    const s = start[w]!;
    for (let i = s; i < s + length[w]! - 1; i++) {
      const p = (symbols[i]! << 8) | symbols[i + 1]!;
      byteCount[p]! += count[w]!;
      if (lastWord[p] !== w) {
        byteStart[p + 1]! += varintLength(w - lastWord[p]! - 1);
        lastWord[p] = w;
      }
    }
  }
  for (let p = 0; p < 1 << 16; p++) byteStart[p + 1]! += byteStart[p]!;
  const byteWords = new Uint8Array(byteStart[1 << 16]!);
  const fill = byteStart.slice(0, 1 << 16);
  lastWord.fill(-1);
  for (let w = 0; w < start.length; w++) {
    const s = start[w]!;
    for (let i = s; i < s + length[w]! - 1; i++) {
      const p = (symbols[i]! << 8) | symbols[i + 1]!;
      if (lastWord[p] !== w) {
        fill[p] = writeVarint(byteWords, fill[p]!, w - lastWord[p]! - 1);
        lastWord[p] = w;
      }
    }
  }
  // Kept pairs: those with a count ≥ trackMin (the table, the heap and the lists hold no others).
  // A pair's count only falls after the merge that makes it, so a pair not kept stays below
  // trackMin, and while the best kept count is ≥ trackMin it is the best of all pairs. When it
  // falls below (or no kept pair is left), the other pairs are counted from the words, and from
  // then on every pair is kept (trackMin 0). At OWT scale most pairs occur in one or two rare words
  // and the 32k-th merge counts hundreds, so this keeps one pair in ten or fewer.
  let trackMin = pairTrackingMinCount;
  for (let p = 0; p < 1 << 16; p++) if (byteCount[p]! > 0 && byteCount[p]! >= trackMin) pairs.add((p >> 8) * base + (p & 255), byteCount[p]!);
  const lists = new PairWordLists(pairs);
  const symbolWords: Uint8Array[] = []; // symbol 256 + i → its list, once every pair is kept
  const mergedWords = new WordListWriter(); // the new symbol's words, during a merge
  const keptWords = new WordListWriter(); // the scanned symbol's words that still have it
  const pairWords = new WordListWriter();

  const before = (keyA: number, countA: number, keyB: number, countB: number) => {
    if (countA !== countB) return countA - countB;
    const leftA = Math.floor(keyA / base);
    const leftB = Math.floor(keyB / base);
    return compareMergeCandidates(countA, symbolBytes[leftA]!, symbolBytes[keyA - leftA * base]!, countB, symbolBytes[leftB]!, symbolBytes[keyB - leftB * base]!);
  };
  let heap = new PairHeap(before, narrowKeys);
  pairs.forEach((key, c) => heap.push(key, c));

  // Counts the pairs not kept and lists the words of each merged symbol (256 .. 256 + merges - 1).
  const countAllPairs = (mergesDone: number) => {
    const missing = new PairTable(1 << 16, narrowKeys);
    for (let w = 0; w < start.length; w++) {
      const s = start[w]!;
      for (let i = s; i < s + length[w]! - 1; i++) {
        const key = symbols[i]! * base + symbols[i + 1]!;
        if (pairs.count(key) === 0) missing.add(key, count[w]!);
      }
    }
    missing.forEach((key, c) => pairs.add(key, c));
    heap = new PairHeap(before, narrowKeys); // afresh: one entry per pair
    pairs.forEach((key, c) => heap.push(key, c));
    trackMin = 0;
    // Symbol lists, CSR-style: bytes per symbol, then the lists.
    const bytes = new Float64Array(mergesDone);
    const last = new Int32Array(mergesDone).fill(-1);
    for (let pass = 0; pass < 2; pass++) {
      const at = new Float64Array(mergesDone);
      last.fill(-1);
      for (let w = 0; w < start.length; w++) {
        for (let i = start[w]!; i < start[w]! + length[w]!; i++) {
          const k = symbols[i]! - 256;
          if (k < 0 || last[k] === w) continue;
          const gap = w - last[k]! - 1;
          last[k] = w;
          if (pass === 0) bytes[k]! += varintLength(gap);
          else at[k] = writeVarint(symbolWords[k]!, at[k]!, gap);
        }
      }
      if (pass === 0) for (let k = 0; k < mergesDone; k++) symbolWords[k] = new Uint8Array(bytes[k]!);
    }
  };

  // 5. Merge loop.
  const progressEvery = Math.max(1, Math.floor(mergeTotal / 200));
  onMerge(0); // words and index built: the merge phase starts
  for (let m = 0; m < mergeTotal; m++) {
    // Pop until the top entry's count is live; stale entries go back with their live count.
    let best = -1;
    for (;;) {
      while (heap.size > 0) {
        const key = heap.peekKey();
        const stored = heap.peekCount();
        const live = pairs.count(key);
        heap.pop();
        if (live === stored) {
          best = key;
          break;
        }
        if (live > 0) heap.push(key, live);
      }
      if (trackMin === 0 || (best >= 0 && pairs.count(best) >= trackMin)) break;
      best = -1;
      countAllPairs(m); // the best kept count is below trackMin, or nothing is kept
    }
    if (best < 0) {
      onMerge(m); // no pair left anywhere: every word is one token
      break;
    }

    const a = Math.floor(best / base);
    const b = best - a * base;
    const merged = 256 + m;
    const left = symbolBytes[a]!;
    const right = symbolBytes[b]!;
    const mergedBytes = new Uint8Array(left.length + right.length);
    mergedBytes.set(left);
    mergedBytes.set(right, left.length);
    symbolBytes.push(mergedBytes);
    merges.push([left, right]);

    const created = new Map<number, number[]>(); // pair → the words it appears in (pairs made by this merge)
    // A pair's count only grows in the merge that creates it (never in `adjust`), so a pair whose
    // count reaches 0 is gone for good: the table forgets it (its heap entry goes stale).
    const adjust = (key: number, delta: number) => {
      if (key === best) return;
      const next = pairs.add(key, delta);
      if (next > 0 && next < trackMin) pairs.delete(key); // no longer kept
    };
    const gain = (key: number, delta: number, w: number) => {
      pairs.add(key, delta);
      const list = created.get(key);
      if (list === undefined) created.set(key, [w]);
      else if (list[list.length - 1] !== w) list.push(w);
    };
    // The words to scan (see step 4).
    let scanned = -1; // the merged symbol whose list is scanned (and rewritten), or -1
    let list: Uint8Array = byteWords;
    let from = 0;
    let to = 0;
    const own = a < 256 && b < 256 ? -1 : pairs.list(best);
    if (a < 256 && b < 256) {
      from = byteStart[(a << 8) | b]!;
      to = byteStart[((a << 8) | b) + 1]!;
    } else if (own >= 0) {
      list = lists.bytes;
      from = lists.start(own);
      to = lists.end(own);
    } else {
      scanned = a < 256 || (b >= 256 && symbolWords[b - 256]!.length < symbolWords[a - 256]!.length) ? b : a;
      list = symbolWords[scanned - 256]!;
      to = list.length;
    }
    let w = -1;
    for (let at = from; at < to;) {
      // Next word id (word-list-coding.ts: gap - 1, LEB128).
      let byte = list[at++]!;
      let gap = byte & 0x7f;
      for (let shift = 7; byte >= 0x80; shift += 7) {
        byte = list[at++]!;
        gap |= (byte & 0x7f) << shift;
      }
      w += gap + 1;
      const s = start[w]!;
      const end = s + length[w]!;
      const c = count[w]!;
      // Rewrite in place, left to right (`write` never passes `read`, and the symbol at read - 1
      // is still the original one whenever an occurrence is found).
      let write = s;
      let read = s;
      let found = false;
      let kept = false; // the word still has `scanned`
      while (read < end) {
        if (read + 1 < end && symbols[read] === a && symbols[read + 1] === b) {
          if (write > s) {
            adjust(symbols[read - 1]! * base + a, -c); // old (x, a)
            gain(symbols[write - 1]! * base + merged, c, w); // new (x', merged); x' is merged after a repeat
          }
          if (read + 2 < end) {
            const y = symbols[read + 2]!;
            // When another occurrence follows directly, its own left-side update handles (b, a).
            const repeat = y === a && read + 3 < end && symbols[read + 3] === b;
            if (!repeat) {
              adjust(b * base + y, -c);
              gain(merged * base + y, c, w);
            }
          }
          symbols[write++] = merged;
          read += 2;
          found = true;
        } else {
          const x = symbols[read++]!;
          if (x === scanned) kept = true;
          symbols[write++] = x;
        }
      }
      length[w] = write - s;
      if (found && trackMin === 0) mergedWords.push(w);
      if (kept) keptWords.push(w);
    }
    pairs.delete(best);
    if (trackMin === 0) symbolWords.push(mergedWords.take());
    if (scanned >= 0) symbolWords[scanned - 256] = keptWords.take();
    for (const [key, words] of created) {
      const c = pairs.count(key); // > 0: gains only
      if (c < trackMin) {
        pairs.delete(key);
        continue;
      }
      for (const word of words) pairWords.push(word);
      lists.append(key, pairWords.take());
      heap.push(key, c);
    }
    if ((m + 1) % progressEvery === 0 || m + 1 === mergeTotal) onMerge(m + 1);
  }
  return { symbols: symbolBytes, merges };
}
