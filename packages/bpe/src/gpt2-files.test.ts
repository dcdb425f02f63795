import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describeWithFixtures, fixturePath, projectFixturePath } from '../../../test-support/fixtures.js';
import { readGpt2Files, readTokenizerJson, writeGpt2Files } from './gpt2-files.js';
import { formatGpt2Merges, formatGpt2Vocab, formatTokenizerJson, parseGpt2Merges, parseGpt2Vocab } from './gpt2-format.js';

const bytes = (s: string) => new TextEncoder().encode(s);

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gpt2-files-'));
}

/** A tiny model: the 256 bytes, two merges, and a special token. */
function tinyModel() {
  const vocab = new Map<number, Uint8Array>();
  for (let b = 0; b < 256; b++) vocab.set(b, Uint8Array.of(b));
  vocab.set(256, bytes(' t'));
  vocab.set(257, bytes(' th'));
  vocab.set(258, bytes('<|endoftext|>'));
  const merges: [Uint8Array, Uint8Array][] = [
    [bytes(' '), bytes('t')],
    [bytes(' t'), bytes('h')],
  ];
  return { vocab, merges };
}

describe('parseGpt2Vocab', () => {
  it('reads table-form strings as bytes and out-of-table strings as UTF-8', () => {
    const vocab = parseGpt2Vocab('{"Ġthe": 0, "Ċ": 1, "Ã©": 2, "<|ẞ|>": 3}');
    expect(vocab.get(0)).toEqual(bytes(' the'));
    expect(vocab.get(1)).toEqual(bytes('\n'));
    expect(vocab.get(2)).toEqual(bytes('é')); // 'Ã' '©' are the table characters for 0xC3 0xA9
    expect(vocab.get(3)).toEqual(bytes('<|ẞ|>'));
  });
  it('names the file and line of a bad id', () => {
    expect(() => parseGpt2Vocab('{\n "a": 0,\n "b": -1\n}', 'v.json')).toThrow(/v\.json:3: token "b" has id -1/);
    expect(() => parseGpt2Vocab('{\n "a": 0,\n "b": "x"\n}', 'v.json')).toThrow(/v\.json:3/);
  });
  it('rejects duplicate ids, non-objects and broken JSON', () => {
    expect(() => parseGpt2Vocab('{"a": 0, "b": 0}', 'v.json')).toThrow(/id 0 is used by both "a" and "b"/);
    expect(() => parseGpt2Vocab('[1, 2]', 'v.json')).toThrow(/v\.json: expected a JSON object/);
    expect(() => parseGpt2Vocab('{\n"a": 0,\n"b" 1}', 'v.json')).toThrow(/v\.json:3: not valid JSON/);
  });
});

describe('parseGpt2Merges', () => {
  it('reads pairs in order, skipping a #version header and trailing blank lines', () => {
    const merges = parseGpt2Merges('#version: 0.2\nĠ t\nĠt he\n\n\n');
    expect(merges).toEqual([
      [bytes(' '), bytes('t')],
      [bytes(' t'), bytes('he')],
    ]);
  });
  it('accepts CRLF line ends', () => {
    expect(parseGpt2Merges('a b\r\nc d\r\n')).toEqual([
      [bytes('a'), bytes('b')],
      [bytes('c'), bytes('d')],
    ]);
  });
  it('names the file and line of a malformed merge', () => {
    expect(() => parseGpt2Merges('a b\nc d e\n', 'm.txt')).toThrow(/m\.txt:2: expected "left right"/);
    expect(() => parseGpt2Merges('a b\n\nc d\n', 'm.txt')).toThrow(/m\.txt:2: expected/);
    expect(() => parseGpt2Merges('a b\nc ẞ\n', 'm.txt')).toThrow(/m\.txt:2: .*U\+1e9e/);
  });
});

describe('format + parse', () => {
  it('round-trips a vocab and merges, including integer-like and quote tokens', () => {
    const { vocab, merges } = tinyModel();
    vocab.set(259, bytes('12'));
    vocab.set(260, bytes('"\\'));
    expect(parseGpt2Vocab(formatGpt2Vocab(vocab))).toEqual(vocab);
    expect(parseGpt2Merges(formatGpt2Merges(merges))).toEqual(merges);
  });
  it('refuses two ids with the same bytes and empty merge sides', () => {
    expect(() => formatGpt2Vocab(new Map([[0, bytes('a')], [1, bytes('a')]]))).toThrow(/ids 0 and 1 have the same bytes/);
    expect(() => formatGpt2Merges([[bytes(''), bytes('a')]])).toThrow(/merge 0 has an empty side/);
  });
});

describe('writeGpt2Files / readGpt2Files', () => {
  it('writes both files and reads them back, leaving no temporary files', async () => {
    const dir = path.join(tempDir(), 'nested');
    const { vocab, merges } = tinyModel();
    await writeGpt2Files(dir, vocab, merges);
    expect(fs.readdirSync(dir).sort()).toEqual(['merges.txt', 'vocab.json']);
    const read = await readGpt2Files(path.join(dir, 'vocab.json'), path.join(dir, 'merges.txt'));
    expect(read.vocab).toEqual(vocab);
    expect(read.merges).toEqual(merges);
  });
  it('writes nothing when the model cannot be formatted', async () => {
    const dir = path.join(tempDir(), 'out');
    await expect(writeGpt2Files(dir, new Map(), [[bytes(''), bytes('a')]])).rejects.toThrow(/empty side/);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describeWithFixtures('GPT-2 files from the course fixtures', () => {
  it('parses gpt2_vocab.json and gpt2_merges.txt', async () => {
    const { vocab, merges } = await readGpt2Files(fixturePath('gpt2_vocab.json'), fixturePath('gpt2_merges.txt'));
    expect(vocab.size).toBe(50257);
    expect(merges.length).toBe(50000);
    expect(vocab.get(50256)).toEqual(bytes('<|endoftext|>'));
    // GPT-2's first merge joins space and 't'; every merge result is a vocab entry.
    expect(merges[0]).toEqual([bytes(' '), bytes('t')]);
    const known = new Set([...vocab.values()].map((b) => Buffer.from(b).toString('hex')));
    for (const [left, right] of merges) expect(known.has(Buffer.from([...left, ...right]).toString('hex'))).toBe(true);
  });
});

// The HF `tokenizers` package is an independent reader of tokenizer.json: it must load what we write
// and give GPT-2's ids (tiktoken's, from the fixture) on the course strings.
describeWithFixtures('tokenizer.json', () => {
  const require = createRequire(import.meta.url);
  const { Tokenizer: HfTokenizer } = require('tokenizers') as typeof import('tokenizers');
  it('is loaded by HF tokenizers and gives the tiktoken gpt2 ids', async () => {
    const expected = JSON.parse(fs.readFileSync(projectFixturePath('tiktoken-gpt2-expected-ids.json'), 'utf8')) as {
      cases: { name: string; text?: string; file?: string; ids: number[] }[];
    };
    const { vocab, merges } = await readGpt2Files(fixturePath('gpt2_vocab.json'), fixturePath('gpt2_merges.txt'));
    const file = path.join(tempDir(), 'tokenizer.json');
    fs.writeFileSync(file, formatTokenizerJson(vocab, merges, ['<|endoftext|>']));
    const hf = HfTokenizer.fromFile(file);
    for (const testCase of expected.cases) {
      const text = testCase.file ? fs.readFileSync(fixturePath(testCase.file), 'utf8') : testCase.text!;
      if (text === '') continue;
      const encoding = await hf.encode(text);
      expect({ name: testCase.name, ids: encoding.getIds() }).toEqual({ name: testCase.name, ids: testCase.ids });
    }
    const back = await readTokenizerJson(file);
    expect(back.vocab).toEqual(vocab);
    expect(back.merges).toEqual(merges);
    expect(back.specialTokens).toEqual(['<|endoftext|>']);
  });

  it('gives a special token outside the vocab the next id and reads it back as UTF-8', async () => {
    const { vocab, merges } = tinyModel();
    const file = path.join(tempDir(), 'tokenizer.json');
    fs.writeFileSync(file, formatTokenizerJson(vocab, merges, ['<|endoftext|>', '<|ẞ|>']));
    const hf = HfTokenizer.fromFile(file);
    expect(hf.tokenToId('<|ẞ|>')).toBe(259);
    expect((await hf.encode(' th<|ẞ|>')).getIds()).toEqual([257, 259]);
    const back = await readTokenizerJson(file);
    expect(back.vocab.get(259)).toEqual(bytes('<|ẞ|>'));
    expect(back.specialTokens).toEqual(['<|endoftext|>', '<|ẞ|>']);
  });

  it('names the file when it is not a BPE tokenizer.json', async () => {
    const file = path.join(tempDir(), 'tokenizer.json');
    fs.writeFileSync(file, '{"model": {"type": "WordPiece"}}');
    await expect(readTokenizerJson(file)).rejects.toThrow(/tokenizer\.json: model\.type is "WordPiece"/);
  });
});
