/**
 * The bundled GPT-2 encoding (`@cs336/tokenizer/gpt2`): the committed compact data is exactly what
 * scripts/gpt2-data.ts makes from GPT-2's vocab.json + merges.txt (the course fixtures), and the
 * tokenizer it gives equals the one read from those files: same vocab, merges, hash and ids
 * (tiktoken's, from the course fixture).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeWithFixtures, fixturePath, projectFixturePath } from '../../../test-support/fixtures.js';
import { GPT2_MERGES_FILE, GPT2_VOCAB_FILE, gpt2DataModule } from '../scripts/gpt2-data.js';
import { gpt2, gpt2Model } from '../src/gpt2.js';
import { gpt2 as gpt2ForNode } from '../src/gpt2-node.js';
import { Tokenizer } from '../src/index.js';
import { Tokenizer as PortableTokenizer } from '../src/portable.js';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describeWithFixtures('the bundled GPT-2 encoding', () => {
  let fromFiles: Tokenizer;
  beforeAll(async () => {
    fromFiles = await Tokenizer.fromFiles(fixturePath(GPT2_VOCAB_FILE), fixturePath(GPT2_MERGES_FILE), ['<|endoftext|>']);
  });

  it('src/gpt2-data.ts is what the generator makes from GPT-2\'s files (run generate:gpt2 if not)', () => {
    const committed = fs.readFileSync(path.join(packageDir, 'src', 'gpt2-data.ts'), 'utf8');
    const generated = gpt2DataModule(fs.readFileSync(fixturePath(GPT2_VOCAB_FILE), 'utf8'), fs.readFileSync(fixturePath(GPT2_MERGES_FILE), 'utf8'));
    expect(committed === generated).toBe(true); // not toEqual: a 270 kB diff helps nobody
  });

  it('has the same vocab, merges, special token and hash as the files', async () => {
    const tokenizer = await gpt2();
    const model = await gpt2Model();
    const expected = fromFiles.toModel();
    expect(tokenizer.vocabSize).toBe(50257);
    expect(model.specialTokens).toEqual(['<|endoftext|>']);
    // Compared as text (jest's deep equality over 150k Uint8Arrays takes most of a minute).
    const bytesText = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
    const vocabText = (vocab: ReadonlyMap<number, Uint8Array>) => [...vocab].map(([id, bytes]) => `${id}:${bytesText(bytes)}`).sort().join('\n');
    const mergesText = (merges: readonly (readonly [Uint8Array, Uint8Array])[]) => merges.map(([left, right]) => `${bytesText(left)} ${bytesText(right)}`).join('\n');
    expect(model.vocab.size).toBe(expected.vocab.size);
    expect(vocabText(model.vocab) === vocabText(expected.vocab)).toBe(true);
    expect(model.merges.length).toBe(50000);
    expect(mergesText(model.merges) === mergesText(expected.merges)).toBe(true);
    expect(tokenizer.toModel().merges.length).toBe(50000);
    expect(tokenizer.hash()).toBe(fromFiles.hash());
    expect(tokenizer.specialTokenId('<|endoftext|>')).toBe(50256);
  });

  it('encodes the course cases to tiktoken\'s ids and decodes every id as the files do', async () => {
    const tokenizer = await gpt2();
    const { cases } = JSON.parse(fs.readFileSync(projectFixturePath('tiktoken-gpt2-expected-ids.json'), 'utf8')) as { cases: { ids: number[]; text?: string; file?: string }[] };
    for (const testCase of cases) {
      const text = testCase.file ? fs.readFileSync(fixturePath(testCase.file), 'utf8') : testCase.text!;
      expect(tokenizer.encode(text)).toEqual(testCase.ids);
      expect(tokenizer.countTokens(text)).toBe(testCase.ids.length);
    }
    const everyId = Array.from({ length: 50257 }, (_, id) => id);
    expect(Buffer.from(tokenizer.decodeBytes(everyId)).equals(fromFiles.decodeBytes(everyId))).toBe(true);
    expect(() => tokenizer.decode([50257])).toThrow(/id 50257 at index 0 is not in the vocabulary/);
  });

  it('is built once, as the portable Tokenizer, and as the Node one under the node condition', async () => {
    expect(await gpt2()).toBe(await gpt2());
    expect(await gpt2()).toBeInstanceOf(PortableTokenizer);
    expect(await gpt2()).not.toBeInstanceOf(Tokenizer);
    const forNode = await gpt2ForNode();
    expect(forNode).toBeInstanceOf(Tokenizer);
    expect(typeof forNode.encodeFile).toBe('function');
    expect(forNode.hash()).toBe(fromFiles.hash());
  });
});

describe('the GPT-2 data generator', () => {
  it('refuses files that are not laid out as GPT-2\'s', () => {
    expect(() => gpt2DataModule('{"a": 0}', '')).toThrow(/id 1 is not a single byte/);
  });
});
