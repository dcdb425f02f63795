import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describeWithFixtures, fixturePath } from '../../../test-support/fixtures.js';
import { referenceEncode } from './reference-encode.js';
import { Tokenizer } from './node-tokenizer.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

/** 256 byte tokens plus merges over "the cat": a model small enough to reason about by hand. */
function smallModel() {
  const vocab = new Map<number, Uint8Array>();
  for (let b = 0; b < 256; b++) vocab.set(b, Uint8Array.of(b));
  const merges: [Uint8Array, Uint8Array][] = [];
  const add = (left: string, right: string) => {
    merges.push([utf8(left), utf8(right)]);
    vocab.set(vocab.size, utf8(left + right));
  };
  add('t', 'h');
  add('th', 'e');
  add(' ', 'c');
  add(' c', 'a');
  add(' ca', 't');
  add('a', 'a');
  return { vocab, merges };
}

describe('Tokenizer on a small model', () => {
  const { vocab, merges } = smallModel();
  const tokenizer = new Tokenizer(vocab, merges, ['<|eot|>', '<|eot|><|eot|>']);

  it('applies merges in rank order within pre-tokens', () => {
    expect(tokenizer.encode('the cat')).toEqual([257, 260]);
    expect(tokenizer.encode('aaa')).toEqual([261, 97]); // leftmost pair first
  });

  it('equals the reference encoder on random text over the model alphabet', () => {
    const text = fc.string({ unit: fc.constantFrom('t', 'h', 'e', ' ', 'c', 'a', 'é', '\n', '<|eot|>', '<|eo'), maxLength: 80 });
    fc.assert(
      fc.property(text, (s) => {
        expect(tokenizer.encode(s)).toEqual(referenceEncode(s, vocab, merges, ['<|eot|>', '<|eot|><|eot|>']));
      }),
    );
  });

  it('gives a special token missing from the vocab the next id; the longest special wins', () => {
    expect(tokenizer.vocabSize).toBe(vocab.size + 2);
    expect(tokenizer.specialTokenId('<|eot|>')).toBe(vocab.size);
    expect(tokenizer.encode('a<|eot|><|eot|><|eot|>')).toEqual([97, vocab.size + 1, vocab.size]);
    expect(tokenizer.decode([vocab.size + 1])).toBe('<|eot|><|eot|>');
  });

  it('encodeIterable never cuts through a special token that contains whitespace', () => {
    const specials = ['<|a b|>', 'c\n\n<sep>', '<|a b|> c'];
    const spaced = new Tokenizer(vocab, merges, specials);
    const text = 'the cat<|a b|> c\n\n<sep>the <|a b|>x c\n\n<sep> aa<|a b|>  cat';
    const expected = referenceEncode(text, vocab, merges, specials);
    expect(spaced.encode(text)).toEqual(expected);
    for (let k = 0; k <= text.length; k++) {
      for (let j = k; j <= text.length; j += 7) {
        expect([...spaced.encodeIterable([text.slice(0, k), text.slice(k, j), text.slice(j)])]).toEqual(expected);
      }
    }
  });

  it('encodeIterable takes a plain string whole', () => {
    expect([...tokenizer.encodeIterable('the cat<|eot|> aa')]).toEqual(tokenizer.encode('the cat<|eot|> aa'));
  });

  it('never produces a special token from ordinary text', () => {
    const plain = new Tokenizer(vocab, merges);
    expect(plain.encode('<|eot|>')).not.toContain(vocab.size);
    expect(plain.encode('<|eot|>').length).toBeGreaterThan(1);
  });

  it('encodes lone surrogates as the bytes of U+FFFD', () => {
    const lone = 'a\ud800b\udc00 \ud83d';
    expect(tokenizer.encode(lone)).toEqual(tokenizer.encode('a\ufffdb\ufffd \ufffd'));
    expect(tokenizer.decodeBytes(tokenizer.encode(lone))).toEqual(new TextEncoder().encode(lone));
  });

  it('decodes malformed UTF-8 to U+FFFD and keeps a leading byte-order mark', () => {
    expect(tokenizer.decode([0xe2, 0x82, 97])).toBe('\ufffda');
    expect(tokenizer.decode(tokenizer.encode('\ufeffhi'))).toBe('\ufeffhi');
  });

  it('has a hash that changes with the merges and the special tokens', () => {
    const again = new Tokenizer(vocab, merges, ['<|eot|>', '<|eot|><|eot|>']);
    expect(again.hash()).toBe(tokenizer.hash());
    expect(tokenizer.hash()).toMatch(/^[0-9a-f]{64}$/);
    expect(new Tokenizer(vocab, merges.slice(0, -1), ['<|eot|>', '<|eot|><|eot|>']).hash()).not.toBe(tokenizer.hash());
    expect(new Tokenizer(vocab, merges, ['<|eot|>']).hash()).not.toBe(tokenizer.hash());
  });
});

describe('Tokenizer counting', () => {
  const { vocab, merges } = smallModel();
  const specials = ['<|eot|>', '<|eot|><|eot|>'];
  const tokenizer = new Tokenizer(vocab, merges, specials);
  const text = fc.string({ unit: fc.constantFrom('t', 'h', 'e', ' ', 'c', 'a', 'é', '🙃', '\n', '<|eot|>', '<|eo'), maxLength: 80 });

  it('countTokens is the length of encode, specials included', () => {
    fc.assert(fc.property(text, (s) => expect(tokenizer.countTokens(s)).toBe(referenceEncode(s, vocab, merges, specials).length)));
  });

  it('isWithinLimit(text, n) is countTokens(text) <= n for every n around the count', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: -3, max: 3 }), (s, delta) => {
        const count = referenceEncode(s, vocab, merges, specials).length;
        const limit = Math.max(0, count + delta);
        expect(tokenizer.isWithinLimit(s, limit)).toBe(count <= limit);
      }),
    );
    expect(tokenizer.isWithinLimit('the cat', Infinity)).toBe(true);
  });

  it('stops counting soon after the limit is passed', async () => {
    const { BpeEncoder } = await import('./bpe-encoder.js');
    const encoder = new BpeEncoder(tokenizer.compiled());
    const long = 'the cat<|eot|> aa '.repeat(10_000);
    const full = tokenizer.encode(long).length;
    // Past the limit it returns at the end of the pre-token (or special) that crossed it.
    expect(encoder.count(long, 10)).toBeGreaterThan(10);
    expect(encoder.count(long, 10)).toBeLessThan(20);
    expect(encoder.count(long, Infinity)).toBe(full);
  });

  it('rejects a bad limit and non-string text', () => {
    expect(() => tokenizer.isWithinLimit('a', -1)).toThrow(/limit is -1; use a non-negative integer/);
    expect(() => tokenizer.isWithinLimit('a', 1.5)).toThrow(/limit is 1.5/);
    expect(() => tokenizer.isWithinLimit('a', NaN)).toThrow(/limit is NaN/);
    expect(() => tokenizer.countTokens(undefined as unknown as string)).toThrow(/expected a string, got undefined/);
  });
});

describe('Tokenizer from in-memory text', () => {
  const { vocab, merges } = smallModel();

  it('fromGpt2Text and fromTokenizerJsonText build the tokenizer the files would', async () => {
    const { formatGpt2Merges, formatGpt2Vocab, formatTokenizerJson } = await import('@cs336/bpe');
    const expected = new Tokenizer(vocab, merges, ['<|eot|>']);
    const fromText = Tokenizer.fromGpt2Text(formatGpt2Vocab(vocab), formatGpt2Merges(merges), ['<|eot|>']);
    const fromJson = Tokenizer.fromTokenizerJsonText(formatTokenizerJson(vocab, merges, ['<|eot|>']));
    expect(fromText).toBeInstanceOf(Tokenizer); // the subclass the static was called on
    expect(fromText.hash()).toBe(expected.hash());
    expect(fromJson.hash()).toBe(expected.hash());
    expect(fromJson.encode('the cat<|eot|>')).toEqual(expected.encode('the cat<|eot|>'));
  });

  it('names the given sources in errors', async () => {
    const { formatGpt2Vocab } = await import('@cs336/bpe');
    const sources = { vocab: 'https://x/vocab.json', merges: 'https://x/merges.txt' };
    expect(() => Tokenizer.fromGpt2Text(formatGpt2Vocab(vocab), 't h\nx yz\n', [], sources)).toThrow(/^https:\/\/x\/merges\.txt:2: .*refers to "yz".*\(vocab: https:\/\/x\/vocab\.json\)/);
    expect(() => Tokenizer.fromGpt2Text('{"a": 0}', '', [], sources)).toThrow(/^https:\/\/x\/vocab\.json \+ https:\/\/x\/merges\.txt: .*no token for byte 0x00/);
    expect(() => Tokenizer.fromTokenizerJsonText('{"model": {"type": "WordPiece"}}', 'my.json')).toThrow(/^my\.json: model\.type is "WordPiece"/);
    expect(() => Tokenizer.fromGpt2Text(undefined as unknown as string, '')).toThrow(/expected the texts of vocab\.json and merges\.txt as strings/);
  });

  it('hash() is sha256 of the documented layout (checkpoints record it, so it must not change)', async () => {
    // The layout, written out independently with node:crypto.
    const { createHash } = await import('node:crypto');
    const specials = ['<|eot|>'];
    const tokenizer = new Tokenizer(vocab, merges, specials);
    const hash = createHash('sha256');
    const u32 = (value: number) => hash.update(new Uint8Array(new Uint32Array([value]).buffer));
    hash.update('cs336-tokenizer/v1');
    const ids = [...vocab.keys(), vocab.size]; // the special token takes the next id
    const bytesOf = (id: number) => vocab.get(id) ?? utf8(specials[0]!);
    u32(ids.length);
    for (const id of ids) {
      u32(id);
      u32(bytesOf(id).length);
      hash.update(bytesOf(id));
    }
    u32(merges.length);
    for (const [left, right] of merges) {
      u32(left.length);
      hash.update(left);
      u32(right.length);
      hash.update(right);
    }
    hash.update(JSON.stringify(specials));
    expect(tokenizer.hash()).toBe(hash.digest('hex'));
  });
});

describe('Tokenizer bad input', () => {
  const { vocab, merges } = smallModel();

  it('rejects unknown ids in decode, naming the id and its index', () => {
    const tokenizer = new Tokenizer(vocab, merges);
    expect(() => tokenizer.decode([97, 99999])).toThrow(/id 99999 at index 1 is not in the vocabulary \(ids are 0\.\.261\)/);
    expect(() => tokenizer.decode([1.5])).toThrow(/id 1.5 at index 0/);
    expect(() => tokenizer.decodeBytes([-1])).toThrow(/id -1/);
  });

  it('rejects merges whose tokens or result are not in the vocab', () => {
    expect(() => new Tokenizer(vocab, [...merges, [utf8('xyz'), utf8('a')]])).toThrow(/merge 6 \("xyz" \+ "a"\) refers to "xyz", which is not in the vocab/);
    expect(() => new Tokenizer(vocab, [...merges, [utf8('x'), utf8('y')]])).toThrow(/merge 6 \("x" \+ "y"\) refers to "xy"/);
  });

  it('rejects an empty special token and a vocab without every byte', () => {
    expect(() => new Tokenizer(vocab, merges, [''])).toThrow(/special token "" is empty/);
    const partial = new Map(vocab);
    partial.delete(0x41);
    expect(() => new Tokenizer(partial, [])).toThrow(/no token for byte 0x41/);
  });

  it('rejects non-string input to encode and bad chunks in encodeIterable', async () => {
    const tokenizer = new Tokenizer(vocab, merges);
    expect(() => tokenizer.encode(42 as unknown as string)).toThrow(/expected a string, got number/);
    expect(() => [...tokenizer.encodeIterable(['a', 7 as unknown as string])]).toThrow(/chunk 1 is number/);
    expect(() => tokenizer.encodeIterable(null as unknown as string[])).toThrow(/expected an iterable/);
    const collect = async () => {
      for await (const _ of tokenizer.encodeIterable(Readable.from([{ x: 1 }], { objectMode: true }))) void _;
    };
    await expect(collect()).rejects.toThrow(/chunk 0 is object/);
  });

  it('names the file and line of a malformed vocab or merges file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenizer-'));
    fs.writeFileSync(path.join(dir, 'vocab.json'), '{\n"a": 0,\n"b": "one"\n}');
    fs.writeFileSync(path.join(dir, 'merges.txt'), 'a b\n');
    await expect(Tokenizer.fromFiles(path.join(dir, 'vocab.json'), path.join(dir, 'merges.txt'))).rejects.toThrow(/vocab\.json:3: token "b" has id "one"/);
    fs.writeFileSync(path.join(dir, 'vocab.json'), '{"a": 0}');
    fs.writeFileSync(path.join(dir, 'merges.txt'), 'a b\na b c\n');
    await expect(Tokenizer.fromFiles(path.join(dir, 'vocab.json'), path.join(dir, 'merges.txt'))).rejects.toThrow(/merges\.txt:2: expected "left right"/);
  });

  it('names the merges line that refers to a token missing from the vocab', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenizer-'));
    const { formatGpt2Vocab } = await import('@cs336/bpe');
    fs.writeFileSync(path.join(dir, 'vocab.json'), formatGpt2Vocab(vocab));
    fs.writeFileSync(path.join(dir, 'merges.txt'), '#version: 0.2\nt h\nth e\nx yz\n');
    await expect(Tokenizer.fromFiles(path.join(dir, 'vocab.json'), path.join(dir, 'merges.txt'))).rejects.toThrow(/merges\.txt:4: Tokenizer: merge 2 \("x" \+ "yz"\) refers to "yz", which is not in the vocab/);
  });
});

describeWithFixtures('Tokenizer with GPT-2 files', () => {
  let gpt2: Tokenizer;
  let sample: string;
  beforeAll(async () => {
    gpt2 = await Tokenizer.fromFiles(fixturePath('gpt2_vocab.json'), fixturePath('gpt2_merges.txt'), ['<|endoftext|>']);
    sample = fs.readFileSync(fixturePath('tinystories_sample.txt'), 'utf8').slice(0, 700) + ' 🙃 über  \n\n  end<|endoftext|>x <|endoftext|><|endoftext|> y\t\t z';
  });

  it('round-trips any well-formed string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (s) => {
        expect(gpt2.decode(gpt2.encode(s))).toBe(s);
      }),
      { numRuns: 300 },
    );
  });

  it('encodeIterable gives encode()\'s ids for a two-chunk split at every offset', () => {
    const expected = gpt2.encode(sample);
    for (let k = 0; k <= sample.length; k++) {
      expect([...gpt2.encodeIterable([sample.slice(0, k), sample.slice(k)])]).toEqual(expected);
    }
  });

  it('encodeIterable gives encode()\'s ids for random multi-chunk splits', () => {
    const expected = gpt2.encode(sample);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: sample.length }), { maxLength: 40 }), (offsets) => {
        const cuts = [0, ...offsets.sort((a, b) => a - b), sample.length];
        const chunks = cuts.slice(1).map((end, i) => sample.slice(cuts[i], end));
        expect([...gpt2.encodeIterable(chunks)]).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });

  it('encodeIterable takes a chunk larger than its window in steps, with the same ids', () => {
    const huge = sample.repeat(Math.ceil(1_500_000 / sample.length));
    const expected = gpt2.encode(huge);
    const ids: number[] = [];
    for (const id of gpt2.encodeIterable([huge])) ids.push(id);
    expect(ids).toEqual(expected);
  });

  it('async encodeIterable over UTF-8 bytes split at every byte offset gives the same ids', async () => {
    const text = sample.slice(600);
    const bytes = utf8(text);
    const expected = gpt2.encode(text);
    for (let k = 0; k <= bytes.length; k++) {
      const ids: number[] = [];
      for await (const id of gpt2.encodeIterable(Readable.from([bytes.slice(0, k), bytes.slice(k)]))) ids.push(id);
      expect(ids).toEqual(expected);
    }
  });

  it('reads what @cs336/bpe trains and writes, and encodes like the reference on it', async () => {
    const { trainBpe, writeGpt2Files } = await import('@cs336/bpe');
    const model = await trainBpe({ input: fixturePath('corpus.en'), vocabSize: 400, specialTokens: ['<|endoftext|>'], workers: 0 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenizer-trained-'));
    await writeGpt2Files(dir, model.vocab, model.merges);
    const trained = await Tokenizer.fromFiles(path.join(dir, 'vocab.json'), path.join(dir, 'merges.txt'), ['<|endoftext|>']);
    expect(trained.vocabSize).toBe(400);
    const text = fs.readFileSync(fixturePath('corpus.en'), 'utf8').slice(0, 20_000) + '<|endoftext|> ünïcödé 🙃';
    const ids = trained.encode(text);
    expect(ids).toEqual(referenceEncode(text, model.vocab, model.merges, ['<|endoftext|>']));
    expect(trained.decode(ids)).toBe(text);
  });

  it('loads the same model from a tokenizer.json', async () => {
    const { formatTokenizerJson } = await import('@cs336/bpe');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tokenizer-')), 'tokenizer.json');
    const model = gpt2.toModel();
    fs.writeFileSync(file, formatTokenizerJson(model.vocab, model.merges, model.specialTokens));
    const fromJson = await Tokenizer.fromTokenizerJson(file);
    expect(fromJson.hash()).toBe(gpt2.hash());
    expect(fromJson.encode(sample)).toEqual(gpt2.encode(sample));
  });
});
