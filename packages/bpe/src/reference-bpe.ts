/**
 * The slow, obvious BPE trainer: whole text in memory, the GPT-2 RegExp for pre-tokenization,
 * and a full recount of every pair before each merge. It exists to check `trainBpe` against in
 * parity tests; use `trainBpe` for real work.
 *
 * Tokens are held as "byte strings" (one char per byte, U+0000–U+00FF), so JavaScript's string
 * order is exactly Python's `bytes` order and the tie rule is a plain tuple comparison here,
 * independent of merge-order.ts.
 */
import { GPT2_PATTERN, splitOnSpecialTokens } from './pretokenize.js';

export interface BpeModel {
  /** Token id → bytes: special tokens first, then the 256 single bytes, then one token per merge. */
  vocab: Map<number, Uint8Array>;
  /** Merges in the order they were learned. */
  merges: [Uint8Array, Uint8Array][];
}

const toByteString = (text: string) => Buffer.from(text, 'utf8').toString('latin1');
const fromByteString = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

export function trainBpeReference(text: string, vocabSize: number, specialTokens: readonly string[]): BpeModel {
  // 1. Count pre-tokens; each word starts as its single bytes.
  const words = new Map<string, { parts: string[]; count: number }>();
  for (const piece of splitOnSpecialTokens(text, specialTokens)) {
    if (piece.special) continue;
    for (const match of piece.text.matchAll(new RegExp(GPT2_PATTERN.source, GPT2_PATTERN.flags))) {
      const entry = words.get(match[0]);
      if (entry) entry.count++;
      else words.set(match[0], { parts: [...toByteString(match[0])], count: 1 });
    }
  }

  const merges: [string, string][] = [];
  const mergeCount = vocabSize - 256 - specialTokens.length;
  while (merges.length < mergeCount) {
    // 2. Recount every adjacent pair (key: left + U+0100 + right; U+0100 never occurs in a byte string).
    const pairs = new Map<string, number>();
    for (const { parts, count } of words.values()) {
      for (let i = 0; i + 1 < parts.length; i++) {
        const key = `${parts[i]}\u0100${parts[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + count);
      }
    }
    // 3. Most frequent pair; ties to the greater (left, right) tuple.
    let best: [string, string] | undefined;
    let bestCount = 0;
    for (const [key, count] of pairs) {
      const [left, right] = key.split('\u0100') as [string, string];
      const greater = !best || left > best[0] || (left === best[0] && right > best[1]);
      if (count > bestCount || (count === bestCount && greater)) {
        best = [left, right];
        bestCount = count;
      }
    }
    if (!best) break; // every word is a single token: nothing left to merge
    merges.push(best);
    // 4. Apply the merge left to right in every word.
    for (const word of words.values()) {
      const out: string[] = [];
      for (let i = 0; i < word.parts.length; i++) {
        if (word.parts[i] === best[0] && word.parts[i + 1] === best[1]) {
          out.push(best[0] + best[1]);
          i++;
        } else out.push(word.parts[i]!);
      }
      word.parts = out;
    }
  }

  const vocab = new Map<number, Uint8Array>();
  for (const token of specialTokens) vocab.set(vocab.size, new TextEncoder().encode(token));
  for (let b = 0; b < 256; b++) vocab.set(vocab.size, Uint8Array.of(b));
  for (const [left, right] of merges) vocab.set(vocab.size, fromByteString(left + right));
  return { vocab, merges: merges.map(([l, r]) => [fromByteString(l), fromByteString(r)]) };
}
