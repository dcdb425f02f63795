import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describeWithFixtures, fixturePath } from '../../../test-support/fixtures.js';
import { unicodeToBytes } from './bytes-to-unicode.js';
import { GPT2_PATTERN } from './pretokenize.js';
import { trainBpeReference, type BpeModel } from './reference-bpe.js';
import { resolveTrainBpeConfig, trainBpe, type BpeProgress } from './train-bpe.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const mergeStrings = (model: BpeModel) => model.merges.map(([l, r]) => `${hex(l)} ${hex(r)}`);
const vocabSet = (vocab: Map<number, Uint8Array>) => new Set([...vocab.values()].map(hex));

async function* pieces(text: string, sizes: number[]): AsyncGenerator<string> {
  let i = 0;
  for (const size of sizes) {
    if (i >= text.length) break;
    yield text.slice(i, i + size);
    i += size;
  }
  if (i < text.length) yield text.slice(i);
}

function tempFile(contents: string | Uint8Array): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'train-bpe-'));
  const file = path.join(dir, 'input.txt');
  fs.writeFileSync(file, contents);
  return file;
}

describeWithFixtures('trainBpe conformance (CS336 fixture: corpus.en, vocab 500, <|endoftext|>)', () => {
  const referenceMerges = () => fs.readFileSync(fixturePath('train-bpe-reference-merges.txt'), 'utf8')
    .split('\n').filter((line) => line.length > 0)
    .map((line) => line.split(' ').map((t) => hex(unicodeToBytes(t))).join(' '));
  const referenceVocab = () => Object.entries(JSON.parse(fs.readFileSync(fixturePath('train-bpe-reference-vocab.json'), 'utf8')) as Record<string, number>)
    .map(([token, id]) => [id, token === '<|endoftext|>' ? new TextEncoder().encode(token) : unicodeToBytes(token)] as const);

  it.each([
    ['on this thread', { workers: 0 }],
    ['on this thread, in small chunks', { workers: 0, chunkChars: 3000 }],
    ['on 2 worker threads, in small chunks', { workers: 2, chunkChars: 20_000 }],
  ])('reproduces the reference merges (in order) and vocab %s', async (_name, extra) => {
    const model = await trainBpe({ input: fixturePath('corpus.en'), vocabSize: 500, specialTokens: ['<|endoftext|>'], ...extra });
    expect(mergeStrings(model)).toEqual(referenceMerges());
    const reference = new Map(referenceVocab());
    expect(vocabSet(model.vocab)).toEqual(vocabSet(reference));
    // Same layout as the reference: the special token at 0, merges from 257 on in order.
    expect(model.vocab.get(0)).toEqual(reference.get(0));
    for (let id = 257; id < 500; id++) expect(hex(model.vocab.get(id)!)).toBe(hex(reference.get(id)!));
  });

  it('agrees with the slow reference trainer on the TinyStories sample, with and without the special token', async () => {
    const text = fs.readFileSync(fixturePath('tinystories_sample.txt'), 'utf8');
    for (const specialTokens of [['<|endoftext|>'], []]) {
      const fast = await trainBpe({ input: pieces(text, [100, 7, 1000]), vocabSize: 256 + specialTokens.length + 150, specialTokens, workers: 0, chunkChars: 500 });
      const slow = trainBpeReference(text, 256 + specialTokens.length + 150, specialTokens);
      expect(mergeStrings(fast)).toEqual(mergeStrings(slow));
      expect([...fast.vocab.entries()].map(([id, b]) => [id, hex(b)])).toEqual([...slow.vocab.entries()].map(([id, b]) => [id, hex(b)]));
    }
  });
});

// Words from a small alphabet make equal counts (ties) common; the rest covers multi-byte UTF-8,
// astral characters, digit and whitespace runs, contractions and special tokens.
const PIECES = [
  'a', 'b', 'ab', 'ba', 'aa', 'c', ' ', ' ', '  ', '\n', '\n\n', '\t', 'é', 'ée', '中文', '😀', 'ß',
  '1', '23', '456', "'s", "'ll", '!', '?!', '<|endoftext|>', '<|x|>', 'the', ' the',
];
const corpus = fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 120 }).map((parts) => parts.join(''));

describe('trainBpe parity with the reference trainer', () => {
  it('gives identical merges and vocab on random corpora, with and without special tokens', async () => {
    await fc.assert(fc.asyncProperty(
      corpus,
      fc.constantFrom<string[]>([], ['<|endoftext|>'], ['<|endoftext|>', '<|x|>']),
      fc.integer({ min: 0, max: 60 }),
      fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 8 }),
      fc.integer({ min: 2, max: 64 }),
      async (text, specialTokens, extraMerges, pieceSizes, chunkChars) => {
        const vocabSize = 256 + specialTokens.length + extraMerges;
        const fast = await trainBpe({ input: pieces(text, pieceSizes), vocabSize, specialTokens, workers: 0, chunkChars });
        const slow = trainBpeReference(text, vocabSize, specialTokens);
        expect(mergeStrings(fast)).toEqual(mergeStrings(slow));
        expect([...fast.vocab].map(([id, b]) => [id, hex(b)])).toEqual([...slow.vocab].map(([id, b]) => [id, hex(b)]));
      },
    ), { numRuns: 150 });
  });

  it('stays identical deep into training on longer corpora (long merged words, many stale heap entries)', async () => {
    const longCorpus = fc.array(fc.constantFrom(...PIECES, 'abab', 'aaaa', ' ab', 'the the', '1111'), { minLength: 500, maxLength: 1500 }).map((p) => p.join(''));
    await fc.assert(fc.asyncProperty(longCorpus, fc.integer({ min: 100, max: 400 }), async (text, extraMerges) => {
      const vocabSize = 257 + extraMerges;
      const fast = await trainBpe({ input: pieces(text, [997]), vocabSize, specialTokens: ['<|endoftext|>'], workers: 0, chunkChars: 700 });
      expect(mergeStrings(fast)).toEqual(mergeStrings(trainBpeReference(text, vocabSize, ['<|endoftext|>'])));
    }), { numRuns: 8 });
  });

  it('merges repeated symbols left to right (aaaa, abab)', async () => {
    for (const text of ['aaaa aaa aaaaa', 'ababab abab aba', 'aaa']) {
      const fast = await trainBpe({ input: pieces(text, []), vocabSize: 262, specialTokens: [], workers: 0 });
      expect(mergeStrings(fast)).toEqual(mergeStrings(trainBpeReference(text, 262, [])));
    }
  });
});

describe('trainBpe inputs and progress', () => {
  it('stops early, with fewer merges, when no pair is left', async () => {
    const model = await trainBpe({ input: pieces('ab ab', []), vocabSize: 1000, specialTokens: [], workers: 0 });
    expect(mergeStrings(model)).toEqual(mergeStrings(trainBpeReference('ab ab', 1000, [])));
    expect(model.merges.length).toBe(2); // "ab", then " " + "ab"
  });

  it('decodes invalid UTF-8 with U+FFFD replacement, like TextDecoder', async () => {
    const raw = Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9, 0xff, 0x20, 0xc3]), Buffer.from(' café café \xff')]);
    const file = tempFile(raw);
    const model = await trainBpe({ input: file, vocabSize: 280, specialTokens: [], workers: 0 });
    const decoded = new TextDecoder('utf-8').decode(raw);
    expect(decoded).toContain('\ufffd');
    expect(mergeStrings(model)).toEqual(mergeStrings(trainBpeReference(decoded, 280, [])));
    // 0xE9 (a lead cut short by 0xFF), 0xFF, and 0xC3 before a space: three bytes read as U+FFFD.
    expect(model.invalidUtf8Bytes).toBe(3);
    const clean = await trainBpe({ input: tempFile('café café'), vocabSize: 260, specialTokens: [], workers: 0 });
    expect(clean.invalidUtf8Bytes).toBe(0);
  });

  it('with strictUtf8 refuses input that is not UTF-8, naming the first bad byte', async () => {
    const file = tempFile(Buffer.concat([Buffer.from('café '), Buffer.from([0xff]), Buffer.from(' more')]));
    await expect(trainBpe({ input: file, vocabSize: 280, specialTokens: [], workers: 0, strictUtf8: true })).rejects.toThrow(/is not valid UTF-8: byte 6 is not part of a UTF-8 character/);
    const cutAtEnd = tempFile(Buffer.concat([Buffer.from('café '), Buffer.from([0xe2, 0x82])]));
    await expect(trainBpe({ input: cutAtEnd, vocabSize: 280, specialTokens: [], workers: 0, strictUtf8: true })).rejects.toThrow(/byte 6 /);
    expect((await trainBpe({ input: tempFile('café café'), vocabSize: 260, specialTokens: [], workers: 0, strictUtf8: true })).merges.length).toBe(4);
  });

  it('reports pre-tokenization bytes and merge progress up to the totals', async () => {
    const text = 'the cat sat on the mat. '.repeat(50);
    const file = tempFile(text);
    const events: BpeProgress[] = [];
    const model = await trainBpe({ input: file, vocabSize: 300, specialTokens: [], workers: 0, chunkChars: 100, onProgress: (p) => events.push(p) });
    const pre = events.filter((e) => e.phase === 'pretokenize');
    const merge = events.filter((e) => e.phase === 'merge');
    expect(pre.at(-1)).toEqual({ phase: 'pretokenize', bytesDone: text.length, bytesTotal: text.length });
    expect(pre.length).toBeGreaterThan(1);
    // This text runs out of pairs before 44 merges: the last event says how many were done.
    expect(model.merges.length).toBeLessThan(44);
    // Distinct pre-tokens, as the GPT-2 RegExp splits the text.
    const distinctPretokens = new Set(text.match(new RegExp(GPT2_PATTERN.source, GPT2_PATTERN.flags))).size;
    expect(merge.at(-1)).toEqual({ phase: 'merge', mergesDone: model.merges.length, mergesTotal: 44, distinctPretokens });
    const done = merge.map((e) => e.mergesDone);
    expect(done).toEqual([...done].sort((x, y) => x - y));
  });
});

describeWithFixtures('trainBpe with a failing progress callback', () => {
  it('rejects with the callback error on worker threads instead of crashing', async () => {
    const onProgress = (p: BpeProgress) => { if (p.phase === 'pretokenize') throw new Error('progress sink closed'); };
    await expect(trainBpe({ input: fixturePath('corpus.en'), vocabSize: 300, workers: 2, chunkChars: 20_000, onProgress })).rejects.toThrow('progress sink closed');
  });
});

describe('trainBpe bad input', () => {
  it('names a missing file, a directory, and an empty input', async () => {
    await expect(trainBpe({ input: '/no/such/file.txt', vocabSize: 300 })).rejects.toThrow(/"\/no\/such\/file\.txt" does not exist/);
    await expect(trainBpe({ input: os.tmpdir(), vocabSize: 300 })).rejects.toThrow(/is not a regular file/);
    await expect(trainBpe({ input: tempFile(''), vocabSize: 300 })).rejects.toThrow(/is empty/);
    await expect(trainBpe({ input: pieces('', []), vocabSize: 300 })).rejects.toThrow(/is empty/);
  });

  it('rejects a vocab too small for the bytes and specials, duplicate or empty specials, bad workers or pair tracking', () => {
    expect(() => resolveTrainBpeConfig({ vocabSize: 256, specialTokens: ['<|endoftext|>'] })).toThrow(/vocabSize 256 is too small.*257/);
    expect(() => resolveTrainBpeConfig({ vocabSize: 300.5 })).toThrow(/vocabSize 300.5/);
    expect(() => resolveTrainBpeConfig({ vocabSize: 300, specialTokens: ['<|a|>', '<|a|>'] })).toThrow(/"<\|a\|>" is listed twice/);
    expect(() => resolveTrainBpeConfig({ vocabSize: 300, specialTokens: [''] })).toThrow(/non-empty strings/);
    expect(() => resolveTrainBpeConfig({ vocabSize: 300, workers: -1 })).toThrow(/workers must be an integer/);
    expect(() => resolveTrainBpeConfig({ vocabSize: 2 ** 27 })).toThrow(/above the supported maximum/);
    expect(() => resolveTrainBpeConfig({ vocabSize: 300, pairTrackingMinCount: -1 })).toThrow(/pairTrackingMinCount must be an integer ≥ 0/);
    expect(() => resolveTrainBpeConfig({ vocabSize: 300, pairTrackingMinCount: 2.5 })).toThrow(/pairTrackingMinCount/);
    expect(resolveTrainBpeConfig({ vocabSize: 300, specialTokens: [] })).toMatchObject({ vocabSize: 300, specialTokens: [] });
  });

  it('rejects an iterable that yields non-strings', async () => {
    async function* numbers() { yield 1 as unknown as string; }
    await expect(trainBpe({ input: numbers(), vocabSize: 300 })).rejects.toThrow(/must yield strings; got number/);
  });
});
