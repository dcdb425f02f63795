/**
 * The CS336 (Spring 2024) tokenizer tests, case by case: GPT-2's vocab.json/merges.txt with
 * <|endoftext|> as the special token, ids compared with tiktoken's `gpt2` (fixture
 * fixtures/tiktoken-gpt2-expected-ids.json, the project's own), round trips, overlapping specials and encodeIterable over a
 * file's lines. The two memory tests of the course use a 5 MB file the fixtures lack; the memory bound
 * is measured by the bench instead (bench/tokenizer-bench.ts).
 */
import fs from 'node:fs';
import { describeWithFixtures, fixturePath, projectFixturePath } from '../../../test-support/fixtures.js';
import { Tokenizer } from '../src/index.js';

interface ExpectedCase {
  name: string;
  tests: string[];
  allowed_special: string[];
  ids: number[];
  text?: string;
  file?: string;
}

/** A text file's lines with their '\n', as iterating a Python file object gives them. */
function linesOf(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

describeWithFixtures('CS336 test_tokenizer.py conformance', () => {
  let tokenizer: Tokenizer;
  // Read while collecting tests (describe.each needs the cases); without fixtures the suite is skipped.
  const expectedFile = projectFixturePath('tiktoken-gpt2-expected-ids.json');
  const { cases } = (fs.existsSync(expectedFile) ? JSON.parse(fs.readFileSync(expectedFile, 'utf8')) : { cases: [] }) as { cases: ExpectedCase[] };
  const textOf = (c: ExpectedCase) => (c.file ? fs.readFileSync(fixturePath(c.file), 'utf8') : c.text!);

  beforeAll(async () => {
    tokenizer = await Tokenizer.fromFiles(fixturePath('gpt2_vocab.json'), fixturePath('gpt2_merges.txt'), ['<|endoftext|>']);
  });

  it('has all nine expected-id cases', () => {
    expect(cases.map((c) => c.name)).toEqual([
      'empty', 'single_character', 'single_unicode_character', 'ascii_string', 'unicode_string',
      'unicode_string_with_special_tokens', 'address.txt', 'german.txt', 'tinystories_sample.txt',
    ]);
  });

  for (const testCase of cases) describe(testCase.name, () => {
    it('matches tiktoken gpt2', () => {
      expect(tokenizer.encode(textOf(testCase))).toEqual(testCase.ids);
    });
    it('round-trips', () => {
      const text = textOf(testCase);
      expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
    });
  });

  const inline = cases.filter((c) => c.text !== undefined);
  for (const testCase of inline) it(`${testCase.name}: each id decodes to the bytes tiktoken gave`, () => {
    const pieces = (testCase as ExpectedCase & { pieces_utf8_bytes_hex: string[] }).pieces_utf8_bytes_hex;
    expect(tokenizer.encode(testCase.text!).map((id) => Buffer.from(tokenizer.decodeBytes([id])).toString('hex'))).toEqual(pieces);
  });

  it('test_overlapping_special_tokens: the longer special wins', async () => {
    const overlapping = await Tokenizer.fromFiles(fixturePath('gpt2_vocab.json'), fixturePath('gpt2_merges.txt'), ['<|endoftext|>', '<|endoftext|><|endoftext|>']);
    const text = 'Hello, how <|endoftext|><|endoftext|> are you?<|endoftext|>';
    const ids = overlapping.encode(text);
    const pieces = ids.map((id) => overlapping.decode([id]));
    expect(pieces.filter((p) => p === '<|endoftext|>')).toHaveLength(1);
    expect(pieces.filter((p) => p === '<|endoftext|><|endoftext|>')).toHaveLength(1);
    expect(overlapping.decode(ids)).toBe(text);
  });

  it('test_encode_iterable_tinystories_sample_roundtrip and _matches_tiktoken', () => {
    const testCase = cases.find((c) => c.name === 'tinystories_sample.txt')!;
    const text = textOf(testCase);
    const ids: number[] = [];
    for (const id of tokenizer.encodeIterable(linesOf(text))) ids.push(id);
    expect(ids).toEqual(testCase.ids);
    expect(tokenizer.decode(ids)).toBe(text);
  });

  it('encodeIterable over a file stream gives the same ids', async () => {
    const testCase = cases.find((c) => c.name === 'address.txt')!;
    const ids: number[] = [];
    for await (const id of tokenizer.encodeIterable(fs.createReadStream(fixturePath('address.txt'), { highWaterMark: 97 }))) ids.push(id);
    expect(ids).toEqual(testCase.ids);
  });
});
