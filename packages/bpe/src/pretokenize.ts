/**
 * GPT-2 pre-tokenization: text is cut on special tokens first, then each piece is split by the
 * GPT-2 pattern. BPE merges never cross a pre-token boundary.
 *
 * `forEachPretoken` is a hand-written scanner equivalent to running `GPT2_PATTERN` with `exec`
 * in a loop (property-tested against the RegExp in pretokenize.test.ts). It is the hot loop of
 * both the trainer and the tokenizer, and a scanner over a precomputed class table avoids the
 * RegExp engine's per-match backtracking and result allocation.
 */

/** The GPT-2 split pattern (tiktoken's `gpt2` / the CS336 handout), with the flags it needs. */
export const GPT2_PATTERN = /'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

// Character classes the pattern distinguishes. Every code point is exactly one of them.
const LETTER = 1; // \p{L}
const NUMBER = 2; // \p{N}
const SPACE = 3; // \s
const OTHER = 4; // [^\s\p{L}\p{N}]

const IS_LETTER = /^\p{L}$/u;
const IS_NUMBER = /^\p{N}$/u;
const IS_SPACE = /^\s$/u;

function classifyCodePoint(codePoint: number): number {
  const ch = String.fromCodePoint(codePoint);
  if (IS_LETTER.test(ch)) return LETTER;
  if (IS_NUMBER.test(ch)) return NUMBER;
  if (IS_SPACE.test(ch)) return SPACE;
  return OTHER;
}

/**
 * Class of every BMP code unit, computed with the RegExp itself so the two can never disagree.
 * Lone surrogates (0xD800–0xDFFF) classify as OTHER, as they do under the `u` flag.
 */
const BMP_CLASS: Uint8Array = (() => {
  const table = new Uint8Array(0x10000);
  for (let c = 0; c < 0x10000; c++) table[c] = classifyCodePoint(c);
  return table;
})();

// Astral code points are rare; classify them on first sight and remember.
const astralClass = new Map<number, number>();
function classOfAstral(codePoint: number): number {
  let cls = astralClass.get(codePoint);
  if (cls === undefined) {
    cls = classifyCodePoint(codePoint);
    astralClass.set(codePoint, cls);
  }
  return cls;
}

/** Width in code units (1 or 2) of the code point at `i`; assumes i < text.length. */
function widthAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 2;
  }
  return 1;
}

/** Class of the code point starting at `i`, or 0 past the end. */
function classAt(text: string, i: number): number {
  if (i >= text.length) return 0;
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return classOfAstral(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000);
  }
  return BMP_CLASS[c]!;
}

/** End of the run of code points of class `cls` starting at `i`. */
function runEnd(text: string, i: number, cls: number): number {
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    // Fast path: a BMP non-surrogate code unit.
    if (c < 0xd800 || c > 0xdfff) {
      if (BMP_CLASS[c] !== cls) return i;
      i++;
    } else {
      if (classAt(text, i) !== cls) return i;
      i += widthAt(text, i);
    }
  }
  return i;
}

const APOSTROPHE = 0x27;
const SPACE_CHAR = 0x20;

/** Length of a contraction (`'s`, `'d`, `'m`, `'t`, `'ll`, `'ve`, `'re`) at `i`, or 0. Lowercase only, as in the pattern. */
function contractionLength(text: string, i: number): number {
  // Bounds are checked rather than relying on charCodeAt's NaN past the end: reading out of bounds
  // makes V8 throw away the optimized scanner the first time a text ends in an apostrophe.
  if (i + 1 >= text.length) return 0;
  const a = text.charCodeAt(i + 1);
  if (a === 0x73 || a === 0x64 || a === 0x6d || a === 0x74) return 2; // s d m t
  if (i + 2 >= text.length) return 0;
  const b = text.charCodeAt(i + 2);
  if ((a === 0x6c && b === 0x6c) || (a === 0x76 && b === 0x65) || (a === 0x72 && b === 0x65)) return 3; // ll ve re
  return 0;
}

/**
 * End (exclusive) of the pre-token that starts at `start`; assumes start < text.length. For loops
 * that step through the pre-tokens themselves: with no callback in between, V8 can inline the scanner
 * into them and never has to re-optimize it when the callback changes.
 */
export function pretokenEnd(text: string, start: number): number {
  const c = text.charCodeAt(start);
  // 1. '(?:[sdmt]|ll|ve|re)
  if (c === APOSTROPHE) {
    const len = contractionLength(text, start);
    if (len > 0) return start + len;
  }
  // 2–4. ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional single space, then a run of one class.
  if (c === SPACE_CHAR) {
    const next = classAt(text, start + 1);
    if (next === LETTER || next === NUMBER || next === OTHER) return runEnd(text, start + 1, next);
  } else {
    const cls = classAt(text, start);
    if (cls !== SPACE) return runEnd(text, start, cls);
  }
  // 5–6. `\s+(?!\S)|\s+`: a whitespace run; when a non-space follows, the greedy run backs off one
  // code unit (\s has no astral members) so the last space can prefix the next word — unless the
  // run is that one space, which `\s+` then takes alone.
  const end = runEnd(text, start, SPACE);
  if (end === text.length) return end;
  return end - 1 > start ? end - 1 : end;
}

/**
 * Calls `onPretoken(start, end)` for each pre-token of `text` (UTF-16 offsets, end exclusive), in order.
 * The offsets cover `text` exactly: the pattern matches every character.
 */
export function forEachPretoken(text: string, onPretoken: (start: number, end: number) => void): void {
  let start = 0;
  const n = text.length;
  while (start < n) {
    const end = pretokenEnd(text, start);
    onPretoken(start, end);
    start = end;
  }
}

/** The pre-tokens of `text` as strings. Convenience over `forEachPretoken`. */
export function pretokenize(text: string): string[] {
  const out: string[] = [];
  forEachPretoken(text, (s, e) => out.push(text.slice(s, e)));
  return out;
}

/** True for a code unit the pattern's `\s` matches (BMP only: there is no astral whitespace). */
export function isWhitespaceCodeUnit(codeUnit: number): boolean {
  return BMP_CLASS[codeUnit] === SPACE;
}

/**
 * Splits `text` on special tokens, longest match first where they overlap.
 * Returns alternating pieces; `special` is true for a piece that is exactly a special token.
 */
export function splitOnSpecialTokens(text: string, specialTokens: readonly string[]): { text: string; special: boolean }[] {
  if (specialTokens.length === 0) return text.length ? [{ text, special: false }] : [];
  const re = specialTokenPattern(specialTokens);
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

/**
 * A global RegExp matching any of `specialTokens`, longest first so that a token which contains
 * another wins where both match. Throws on an empty special token (it would match everywhere).
 */
export function specialTokenPattern(specialTokens: readonly string[]): RegExp {
  for (const token of specialTokens) {
    if (token.length === 0) throw new Error('special tokens must be non-empty strings; got ""');
  }
  const sorted = [...new Set(specialTokens)].sort((a, b) => b.length - a.length);
  return new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
