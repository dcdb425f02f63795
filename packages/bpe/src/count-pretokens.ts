/**
 * Pre-token counting and the chunk cuts that make it parallel. A chunk is cut only where the
 * special-token split and the GPT-2 pre-token split of the whole text both have a boundary, so
 * counting chunks separately and summing gives exactly the counts of the whole text.
 */
import { PretokenTable } from './pretoken-table.js';
import { forEachPretoken, isWhitespaceCodeUnit } from './pretokenize.js';

export { PretokenTable };

/** Adds the pre-tokens of `text` (no special tokens in it) to `counts`. */
export function countPretokens(text: string, counts: PretokenTable): void {
  forEachPretoken(text, (start, end) => counts.add(text, start, end));
}

/**
 * Adds the pre-tokens of `chunk` to `counts`, skipping special tokens (they never merge) and
 * pre-tokenizing the text between them separately. `specialPattern` is from `specialTokenPattern`,
 * or null when there are no special tokens.
 */
export function countChunk(chunk: string, specialPattern: RegExp | null, counts: PretokenTable): void {
  if (specialPattern === null) {
    countPretokens(chunk, counts);
    return;
  }
  const re = new RegExp(specialPattern.source, 'g');
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(chunk)) !== null) {
    if (m.index > last) countPretokens(chunk.slice(last, m.index), counts);
    last = m.index + m[0].length;
  }
  if (last < chunk.length) countPretokens(last === 0 ? chunk : chunk.slice(last), counts);
}

/**
 * The last position of `text` (the unread rest of a stream, which may go on) where it can be cut
 * without changing the counts, or 0 when there is none yet. Two kinds of cut qualify:
 * - the end of a special-token match (splitting on specials happens first);
 * - a whitespace code unit right after a non-whitespace one: no GPT-2 pre-token spans such a
 *   point (an optional prefix is only ever a space *before* a word), and neither side's split
 *   depends on the other.
 * Only positions at least `maxSpecialLength` from the end count, so that no special token can be
 * straddling the cut or still be completed by text not yet read.
 * `checkedUpTo`: whitespace cuts at or before it are known to be absent (from an earlier call on
 * the same text, which has only grown since), so a long stretch without one is scanned only once.
 */
export function findChunkCut(text: string, specialPattern: RegExp | null, maxSpecialLength: number, checkedUpTo = 0): number {
  const limit = text.length - Math.max(1, maxSpecialLength);
  if (limit <= 0) return 0;
  // Special matches are found left to right from position 0 (a known boundary), as the
  // longest-first split does; a match starting at or before `limit` is final.
  let lastSpecialEnd = 0;
  if (specialPattern !== null) {
    const re = new RegExp(specialPattern.source, 'g');
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null && m.index <= limit) lastSpecialEnd = m.index + m[0].length;
  }
  for (let p = limit, stop = Math.max(lastSpecialEnd, checkedUpTo); p > stop; p--) {
    if (isWhitespaceCodeUnit(text.charCodeAt(p)) && !isWhitespaceCodeUnit(text.charCodeAt(p - 1))) return p;
  }
  return lastSpecialEnd;
}
