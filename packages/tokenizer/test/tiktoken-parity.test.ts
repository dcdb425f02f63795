/**
 * Ids equal to js-tiktoken's `gpt2` (an independent implementation, devDependency only) beyond the
 * course fixtures: the shared corpora, random slices of them, and generated strings built from the
 * pieces GPT-2's pre-tokenizer and merges find hardest.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { getEncoding, type Tiktoken } from 'js-tiktoken';
import { describeWithFixtures, describeWithSharedData, fixturePath, sharedDataDir } from '../../../test-support/fixtures.js';
import { Tokenizer } from '../src/index.js';

const SPECIAL = '<|endoftext|>';
let ours: Tokenizer;
let reference: Tiktoken;

async function load(): Promise<void> {
  ours ??= await Tokenizer.fromFiles(fixturePath('gpt2_vocab.json'), fixturePath('gpt2_merges.txt'), [SPECIAL]);
  reference ??= getEncoding('gpt2');
}

/** First index where two id lists differ, with a little context, for a readable failure. */
function firstDifference(text: string, actual: number[], expected: number[]) {
  const i = actual.findIndex((id, k) => id !== expected[k]);
  const at = i === -1 ? Math.min(actual.length, expected.length) : i;
  if (i === -1 && actual.length === expected.length) return null;
  return { index: at, ours: actual.slice(at, at + 5), jsTiktoken: expected.slice(at, at + 5), near: JSON.stringify(ours.decode(expected.slice(Math.max(0, at - 3), at + 3))), length: text.length };
}

const expectSameIds = (text: string) => expect(firstDifference(text, ours.encode(text), reference.encode(text, [SPECIAL]))).toBeNull();

describeWithFixtures('parity with js-tiktoken gpt2: generated strings', () => {
  beforeAll(load);

  // Pieces chosen to stress the pre-tokenizer and the merges: every GPT-2 contraction (and the curly
  // apostrophe it does not know), digit runs, whitespace runs of every kind, CJK, emoji with ZWJ and
  // skin tones, combining marks, Latin-1 letters, and fragments of the special token.
  const piece = fc.oneof(
    fc.constantFrom("'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "’s", "'", "''", "n't"),
    fc.constantFrom('0', '7', '123', '2024', '3.14', '1,000', '٣', '½'),
    fc.constantFrom(' ', '  ', '   ', '\n', '\n\n', '\t', '\r\n', ' \n ', '\u00a0', '\u3000', '\u2028', '\v', '\f'),
    fc.constantFrom('中文', '日本語', '한국어', '漢', 'ひらがな'),
    fc.constantFrom('🙃', '👍🏽', '👨‍👩‍👧', '🇺🇸', '❤️', '🎉'),
    fc.constantFrom('e\u0301', 'a\u0308', '\u0301', 'n\u0303o', 'ǅ'),
    fc.constantFrom('Hello', 'world', ' the', 'THE', 'ü', 'é', 'ß', 'Ω', 'ﬁ', 'straße'),
    fc.constantFrom('<|', '|>', 'endoftext', '<|endoftext', 'endoftext|>', SPECIAL, '<|endoftext|' + '>'),
    fc.constantFrom('!', '?!', '...', '--', '$', '"', '(', ')', '#', '@', '\\', '{}', '~~~'),
    fc.string({ maxLength: 4 }),
    fc.string({ unit: 'grapheme', maxLength: 4 }),
  );
  const generated = fc.array(piece, { maxLength: 24 }).map((parts) => parts.join(''));

  it('matches on generated strings and round-trips them', () => {
    fc.assert(
      fc.property(generated, (text) => {
        expectSameIds(text);
        expect(ours.decode(ours.encode(text))).toBe(text);
      }),
      { numRuns: 1500 },
    );
  });

  it('matches on pathological runs (long digits, spaces, punctuation, one repeated letter)', () => {
    for (const text of ['1'.repeat(1500), ' '.repeat(1000) + 'x', '!'.repeat(800), 'a'.repeat(1200), 'ab'.repeat(600), '\n'.repeat(500) + ' \n', '🙃'.repeat(300)]) {
      expectSameIds(text);
    }
  });

  it('encodes lone surrogates like their U+FFFD replacement (what js-tiktoken gets from the well-formed string)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(piece, fc.constantFrom('\ud800', '\udfff', '\udc00x', 'a\ud83d')), { maxLength: 12 }), (parts) => {
        const text = parts.join('');
        expect(ours.encode(text)).toEqual(reference.encode(text.replace(/\p{Cs}/gu, '\ufffd'), [SPECIAL]));
      }),
      { numRuns: 300 },
    );
  });
});

describeWithFixtures('parity with js-tiktoken gpt2 (GPT-2 files)', () => describeWithSharedData('parity with js-tiktoken gpt2: shared corpora', () => {
  beforeAll(load);
  const data = sharedDataDir();

  it.each(['gutenberg-children/valid.txt', 'tinystories/v1-valid-head.txt', 'tinystories/v1-train-head.txt'])('matches on all of %s', (file) => {
    expectSameIds(fs.readFileSync(path.join(data, file), 'utf8'));
  });

  it('matches on random slices of gutenberg-children/train.txt (cut at any byte)', () => {
    const file = path.join(data, 'gutenberg-children', 'train.txt');
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      fc.assert(
        fc.property(fc.integer({ min: 0, max: size - 1 }), fc.integer({ min: 1, max: 40_000 }), (offset, length) => {
          const buffer = Buffer.alloc(Math.min(length, size - offset));
          fs.readSync(fd, buffer, 0, buffer.length, offset);
          expectSameIds(buffer.toString('utf8'));
        }),
        { numRuns: 40 },
      );
    } finally {
      fs.closeSync(fd);
    }
  });
}));
