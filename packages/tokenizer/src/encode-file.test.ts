import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeWithFixtures, fixturePath, projectFixturePath } from '../../../test-support/fixtures.js';
import type { EncodeFileProgress } from './encode-file.js';
import { Tokenizer } from './node-tokenizer.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'encode-file-'));

function readIds(file: string, dtype: 'uint16' | 'uint32'): number[] {
  const bytes = fs.readFileSync(file);
  const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return [...(dtype === 'uint16' ? new Uint16Array(copy) : new Uint32Array(copy))];
}

/** Byte tokens, a few merges, and `extra` filler tokens to push the vocab past a size. */
function smallModel(extra = 0) {
  const vocab = new Map<number, Uint8Array>();
  for (let b = 0; b < 256; b++) vocab.set(b, Uint8Array.of(b));
  const merges: [Uint8Array, Uint8Array][] = [];
  for (const [left, right] of [['t', 'h'], ['th', 'e'], [' ', 'c'], [' c', 'a'], [' ca', 't']] as const) {
    merges.push([utf8(left), utf8(right)]);
    vocab.set(vocab.size, utf8(left + right));
  }
  for (let i = 0; i < extra; i++) vocab.set(vocab.size, Uint8Array.of(1, (i >> 16) & 255, (i >> 8) & 255, i & 255));
  return { vocab, merges };
}

describe('encodeFile', () => {
  // Specials with whitespace inside, so a block boundary must dodge them, and multi-byte text.
  const specials = ['<|a b|>', '<|a b|> <|a b|>'];
  const text = Array.from({ length: 900 }, (_, i) => `the cat ${i} héllo<|a b|>${i % 7 === 0 ? ' <|a b|> ' : ''}\n  🙃 cat\n`).join('');

  it.each([0, 2])('with %i workers writes the ids of one encode() and a sidecar', async (workers) => {
    const { vocab, merges } = smallModel();
    const tokenizer = new Tokenizer(vocab, merges, specials);
    const dir = tempDir();
    const input = path.join(dir, 'input.txt');
    fs.writeFileSync(input, text);
    const output = path.join(dir, 'out.bin');
    const progress: EncodeFileProgress[] = [];
    const sidecar = await tokenizer.encodeFile(input, output, { workers, chunkBytes: 1024, onProgress: (p) => progress.push(p) });

    const expected = tokenizer.encode(text);
    expect(readIds(output, 'uint16')).toEqual(expected);
    expect(JSON.parse(fs.readFileSync(`${output}.json`, 'utf8'))).toEqual({
      format: 'cs336-tokens',
      dtype: 'uint16',
      count: expected.length,
      vocabSize: tokenizer.vocabSize,
      tokenizerHash: tokenizer.hash(),
      source: input,
    });
    expect(sidecar.count).toBe(expected.length);
    expect(progress.length).toBeGreaterThan(10);
    expect(progress.at(-1)).toEqual({ bytesDone: Buffer.byteLength(text), bytesTotal: Buffer.byteLength(text), tokens: expected.length });
    expect(fs.readdirSync(dir).sort()).toEqual(['input.txt', 'out.bin', 'out.bin.json']);
  });

  // One job holding many 32 KiB decode pieces, a stretch longer than a piece with no safe cut (the
  // piece must grow), and jobs whose cut is searched in windows that do not reach the job's start.
  it.each([0, 2])('with %i workers, large jobs and long uncuttable stretches still give the ids of one encode()', async (workers) => {
    const { vocab, merges } = smallModel();
    const tokenizer = new Tokenizer(vocab, merges, specials);
    const uncuttable = 'é'.repeat(20_000) + '<|a b|>' + 'x'.repeat(30_000); // 70 KB: over a 32 KiB piece and a 64 KiB window
    const big = `${text}${uncuttable}\n${text}the cat<|a b|> <|a b|>`.repeat(2);
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'in.txt'), big);
    for (const chunkBytes of [1 << 20, 50_000]) {
      const sidecar = await tokenizer.encodeFile(path.join(dir, 'in.txt'), path.join(dir, 'out.bin'), { workers, chunkBytes });
      const expected = tokenizer.encode(big);
      expect(readIds(path.join(dir, 'out.bin'), 'uint16')).toEqual(expected);
      expect(sidecar.count).toBe(expected.length);
    }
  });

  // Fewer jobs than workers: idle workers are stopped while the others still encode (the pool
  // drains), which must neither lose a result nor count as a worker failure.
  it('with more workers than jobs gives the ids of one encode()', async () => {
    const { vocab, merges } = smallModel();
    const tokenizer = new Tokenizer(vocab, merges, specials);
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'in.txt'), text);
    for (const chunkBytes of [1 << 20, 16_384]) {
      const sidecar = await tokenizer.encodeFile(path.join(dir, 'in.txt'), path.join(dir, 'out.bin'), { workers: 4, chunkBytes });
      expect(readIds(path.join(dir, 'out.bin'), 'uint16')).toEqual(tokenizer.encode(text));
      expect(sidecar.count).toBe(tokenizer.encode(text).length);
    }
    expect(fs.readdirSync(dir).sort()).toEqual(['in.txt', 'out.bin', 'out.bin.json']);
  });

  it.each([0, 2])('with %i workers counts the bytes that were not UTF-8, and with strictUtf8 writes nothing', async (workers) => {
    const { vocab, merges } = smallModel();
    const tokenizer = new Tokenizer(vocab, merges, specials);
    const dir = tempDir();
    const input = path.join(dir, 'input.txt');
    // Damage spread over many jobs: a lone 0xFF (1 byte) and a cut 3-byte character (2 bytes) in every 50th line.
    const lines = Array.from({ length: 600 }, (_, i) => (i % 50 === 7 ? Buffer.concat([Buffer.from(`bad ${i} `), Buffer.from([0xff, 0x20, 0xe2, 0x82]), Buffer.from(' cat\n')]) : Buffer.from(`the cat ${i} héllo\n`)));
    const raw = Buffer.concat(lines);
    fs.writeFileSync(input, raw);
    const result = await tokenizer.encodeFile(input, path.join(dir, 'out.bin'), { workers, chunkBytes: 1024 });
    expect(result.invalidUtf8Bytes).toBe(12 * 3);
    expect(readIds(path.join(dir, 'out.bin'), 'uint16')).toEqual(tokenizer.encode(new TextDecoder().decode(raw)));

    const strict = path.join(dir, 'strict.bin');
    const firstBad = raw.indexOf(0xff);
    await expect(tokenizer.encodeFile(input, strict, { workers, chunkBytes: 1024, strictUtf8: true })).rejects.toThrow(new RegExp(`is not valid UTF-8: byte ${firstBad} is not part`));
    expect(fs.readdirSync(dir).sort()).toEqual(['input.txt', 'out.bin', 'out.bin.json']);
  });

  it('writes an empty token file for an empty input', async () => {
    const { vocab, merges } = smallModel();
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'in.txt'), '');
    const sidecar = await new Tokenizer(vocab, merges).encodeFile(path.join(dir, 'in.txt'), path.join(dir, 'out.bin'), { workers: 1 });
    expect(sidecar.count).toBe(0);
    expect(fs.statSync(path.join(dir, 'out.bin')).size).toBe(0);
  });

  it.each([0, 2])('writes uint32 when ids exceed 65535 (%i workers)', async (workers) => {
    const { vocab, merges } = smallModel(70_000);
    const tokenizer = new Tokenizer(vocab, merges, ['<|end|>']);
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'in.txt'), 'the cat<|end|> the\n');
    const sidecar = await tokenizer.encodeFile(path.join(dir, 'in.txt'), path.join(dir, 'out.bin'), { workers });
    expect(sidecar.dtype).toBe('uint32');
    expect(readIds(path.join(dir, 'out.bin'), 'uint32')).toEqual(tokenizer.encode('the cat<|end|> the\n'));
    expect(Math.max(...readIds(path.join(dir, 'out.bin'), 'uint32'))).toBeGreaterThan(65535);
  });

  it('fails cleanly on a missing input, leaving nothing behind', async () => {
    const { vocab, merges } = smallModel();
    const dir = tempDir();
    await expect(new Tokenizer(vocab, merges).encodeFile(path.join(dir, 'missing.txt'), path.join(dir, 'out.bin'), { workers: 0 })).rejects.toThrow(/cannot read .*missing\.txt \(ENOENT\)/);
    expect(fs.readdirSync(dir)).toEqual([]);
    fs.writeFileSync(path.join(dir, 'in.txt'), 'the cat');
    await expect(new Tokenizer(vocab, merges).encodeFile(path.join(dir, 'in.txt'), path.join(dir, 'no', 'out.bin'), { workers: 0 })).rejects.toThrow(/cannot write .*out\.bin \(ENOENT\)/);
    expect(fs.readdirSync(dir)).toEqual(['in.txt']);
  });

  // Workers hold jobs queued ahead; a job failing among them must still reject the whole call, name
  // the problem, and leave no output behind.
  it.each([0, 2])('with %i workers fails cleanly when the input shrinks while it is encoded', async (workers) => {
    const { vocab, merges } = smallModel();
    const dir = tempDir();
    const input = path.join(dir, 'input.txt');
    fs.writeFileSync(input, text);
    const shrink = () => fs.truncateSync(input, 100);
    await expect(new Tokenizer(vocab, merges, specials).encodeFile(input, path.join(dir, 'out.bin'), { workers, chunkBytes: 1024, onProgress: shrink })).rejects.toThrow(
      /the input ended at byte \d+, before its size when encoding began/,
    );
    expect(fs.readdirSync(dir)).toEqual(['input.txt']);
  });

  it('refuses to write its output or sidecar over the input, under any name', async () => {
    const { vocab, merges } = smallModel();
    const tokenizer = new Tokenizer(vocab, merges);
    const dir = tempDir();
    const input = path.join(dir, 'data.bin.json');
    fs.writeFileSync(input, text);
    fs.symlinkSync(input, path.join(dir, 'alias.bin'));
    for (const output of [input, path.join(dir, 'data.bin'), path.join(dir, 'alias.bin'), path.join(dir, '.', 'data.bin.json')]) {
      await expect(tokenizer.encodeFile(input, output, { workers: 0 })).rejects.toThrow(/is the input file .*data\.bin\.json; writing it would destroy the text/);
    }
    expect(fs.readFileSync(input, 'utf8')).toBe(text);
    expect(fs.readdirSync(dir).sort()).toEqual(['alias.bin', 'data.bin.json']);
  });

  it('rejects bad options', async () => {
    const { vocab, merges } = smallModel();
    const tokenizer = new Tokenizer(vocab, merges);
    await expect(tokenizer.encodeFile('a', 'b', { workers: -1 })).rejects.toThrow(/workers is -1/);
    await expect(tokenizer.encodeFile('a', 'b', { chunkBytes: 10 })).rejects.toThrow(/chunkBytes is 10/);
  });
});

describeWithFixtures('encodeFile on real text with GPT-2', () => {
  it('2 workers and small blocks give the ids of a single encode', async () => {
    const tokenizer = await Tokenizer.fromFiles(fixturePath('gpt2_vocab.json'), fixturePath('gpt2_merges.txt'), ['<|endoftext|>']);
    const source = fs.readFileSync(projectFixturePath('gutenberg-children-valid-head.txt'), 'utf8');
    const text = source.replace(/\n\n/g, (m, offset: number) => (offset % 5 === 0 ? '<|endoftext|>' : m));
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'in.txt'), text);
    await tokenizer.encodeFile(path.join(dir, 'in.txt'), path.join(dir, 'out.bin'), { workers: 2, chunkBytes: 8192 });
    expect(readIds(path.join(dir, 'out.bin'), 'uint16')).toEqual(tokenizer.encode(text));
  });
});
