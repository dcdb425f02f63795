import fs from 'node:fs';
import fc from 'fast-check';
import { GPT2_PATTERN, forEachPretoken, pretokenEnd, pretokenize, splitOnSpecialTokens, specialTokenPattern } from './pretokenize.js';
import { describeWithFixtures, fixturePath } from '../../../test-support/fixtures.js';

/** The independent reference: the GPT-2 RegExp run with exec in a loop. */
function regexSpans(text: string): [number, number][] {
  const re = new RegExp(GPT2_PATTERN.source, GPT2_PATTERN.flags);
  const spans: [number, number][] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) spans.push([m.index, m.index + m[0].length]);
  return spans;
}

function scannerSpans(text: string): [number, number][] {
  const spans: [number, number][] = [];
  forEachPretoken(text, (s, e) => spans.push([s, e]));
  return spans;
}

// Characters where the pattern's alternatives interact: spaces of several kinds, apostrophes and
// contraction letters (both cases), halves of contractions (a text may end inside one), digits from
// several scripts, letters and marks, emoji and other astral code points (letters and numbers too),
// lone surrogates, punctuation.
const TRICKY = [
  ' ', ' ', ' ', '\n', '\r\n', '\t', '\u000b', '\f', '\u00a0', '\u2003', '\u3000', '\ufeff', '\u2028', '\u1680',
  "'", "'", "'s", "'S", "'t", "'ll", "'LL", "'ve", "'re", "'d", "'m", "'x", "'l", "'v", "'r", '’',
  'a', 'Z', 'é', 'ß', 'ж', '中', '\u0301', 'ـ', 'ǅ',
  '0', '7', '٣', '१', '²', '½', 'Ⅻ',
  '😀', '👍🏽', '𝐀', '𝟘', '𠀋', '𐍈', '\ud800', '\udfff', '\udc00a',
  '.', ',', '!', '-', '_', '$', '€', '<|endoftext|>', '\u0000', '\u200b',
];
/** Compares spans cheaply on big texts; on a mismatch, reports the first differing span in context. */
function expectSameSpans(text: string): void {
  const expected = regexSpans(text);
  const actual = scannerSpans(text);
  let i = 0;
  while (i < expected.length && i < actual.length && expected[i]![0] === actual[i]![0] && expected[i]![1] === actual[i]![1]) i++;
  if (i === expected.length && i === actual.length) return;
  const show = (spans: [number, number][]) => spans.slice(Math.max(0, i - 2), i + 3).map(([s, e]) => JSON.stringify(text.slice(s, e)));
  expect(show(actual)).toEqual(show(expected));
  expect(actual.length).toBe(expected.length);
}

const trickyString = fc.array(fc.constantFrom(...TRICKY), { maxLength: 40 }).map((parts) => parts.join(''));
const mixedString = fc.oneof(trickyString, fc.string({ unit: 'binary', maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 30 }));

describe('forEachPretoken', () => {
  it('matches the GPT-2 RegExp on random strings biased to tricky characters', () => {
    fc.assert(fc.property(mixedString, (text) => {
      expect(scannerSpans(text)).toEqual(regexSpans(text));
    }), { numRuns: 3000 });
  });

  it('matches the GPT-2 RegExp on every BMP code point between spaces and letters', () => {
    // Each code unit in three contexts, so every class-table entry is exercised once.
    const parts: string[] = [];
    for (let c = 0; c < 0x10000; c++) {
      const ch = String.fromCharCode(c);
      parts.push(` ${ch}a${ch}  ${ch}1'${ch}`);
    }
    expectSameSpans(parts.join(''));
  });

  it('handles the whitespace back-off rule and contractions', () => {
    expect(pretokenize("Hi  there,\n\n  it's 42   ")).toEqual(['Hi', ' ', ' there', ',', '\n\n ', ' it', "'s", ' 42', '   ']);
    expect(pretokenize("DON'T don't")).toEqual(['DON', "'", 'T', ' don', "'t"]);
    expect(pretokenize('')).toEqual([]);
  });
});

/** The spans found by stepping with pretokenEnd, as the tokenizer's encoder does. */
function steppedSpans(text: string): [number, number][] {
  const spans: [number, number][] = [];
  for (let start = 0; start < text.length; ) {
    const end = pretokenEnd(text, start);
    spans.push([start, end]);
    start = end;
  }
  return spans;
}

describe('pretokenEnd', () => {
  it('steps through the pre-tokens the GPT-2 RegExp finds', () => {
    fc.assert(fc.property(mixedString, (text) => {
      expect(steppedSpans(text)).toEqual(regexSpans(text));
    }), { numRuns: 1000 });
  });

  it('handles a text that ends inside a contraction', () => {
    for (const text of ["'", "it'", "we'l", "they'v", "you'r", "'ll", "x'LL", "'ve"]) expect(steppedSpans(text)).toEqual(regexSpans(text));
  });
});

describeWithFixtures('forEachPretoken on real text', () => {
  it.each(['corpus.en', 'tinystories_sample.txt', 'german.txt', 'address.txt'])('matches the RegExp on %s', (name) => {
    expectSameSpans(fs.readFileSync(fixturePath(name), 'utf8'));
  });
});

describe('splitOnSpecialTokens', () => {
  it('prefers the longest special token where two overlap', () => {
    const pieces = splitOnSpecialTokens('a<|e|><|e|>b<|e|>', ['<|e|>', '<|e|><|e|>']);
    expect(pieces).toEqual([
      { text: 'a', special: false },
      { text: '<|e|><|e|>', special: true },
      { text: 'b', special: false },
      { text: '<|e|>', special: true },
    ]);
  });

  it('rejects an empty special token instead of matching everywhere', () => {
    expect(() => specialTokenPattern(['<|endoftext|>', ''])).toThrow(/non-empty/);
  });
});
