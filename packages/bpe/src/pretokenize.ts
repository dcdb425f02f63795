/**
 * GPT-2 pre-tokenization: text is cut on special tokens first, then each piece is split by the
 * GPT-2 pattern. BPE merges never cross a pre-token boundary.
 */

/** The GPT-2 split pattern (tiktoken's `gpt2` / the CS336 handout), with the flags it needs. */
export const GPT2_PATTERN = /'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/**
 * Calls `onPretoken(start, end)` for each pre-token of `text` (UTF-16 offsets, end exclusive), in order.
 * The offsets cover `text` exactly: the pattern matches every character.
 */
export function forEachPretoken(text: string, onPretoken: (start: number, end: number) => void): void {
  const re = new RegExp(GPT2_PATTERN.source, GPT2_PATTERN.flags);
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) onPretoken(m.index, m.index + m[0].length);
}

/** The pre-tokens of `text` as strings. Convenience over `forEachPretoken`. */
export function pretokenize(text: string): string[] {
  const out: string[] = [];
  forEachPretoken(text, (s, e) => out.push(text.slice(s, e)));
  return out;
}

/**
 * Splits `text` on special tokens, longest match first where they overlap.
 * Returns alternating pieces; `special` is true for a piece that is exactly a special token.
 */
export function splitOnSpecialTokens(text: string, specialTokens: readonly string[]): { text: string; special: boolean }[] {
  if (specialTokens.length === 0) return text.length ? [{ text, special: false }] : [];
  const sorted = [...new Set(specialTokens)].sort((a, b) => b.length - a.length);
  const re = new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
  const pieces: { text: string; special: boolean }[] = [];
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (m.index > last) pieces.push({ text: text.slice(last, m.index), special: false });
    pieces.push({ text: m[0], special: true });
    last = m.index + m[0].length;
  }
  if (last < text.length) pieces.push({ text: text.slice(last), special: false });
  return pieces;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
