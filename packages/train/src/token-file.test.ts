import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Random } from './random.js';
import { LargestIdScanner, TokenFile, getBatch, sampleWindows, sequentialWindows } from './token-file.js';

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'token-file-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeTokens(name: string, ids: number[], dtype: 'uint16' | 'uint32', sidecar?: object): string {
  const file = path.join(dir, name);
  const data = dtype === 'uint16' ? new Uint16Array(ids) : new Uint32Array(ids);
  fs.writeFileSync(file, Buffer.from(data.buffer)); // little-endian on every platform Node runs on here
  if (sidecar) fs.writeFileSync(`${file}.json`, JSON.stringify(sidecar));
  return file;
}

describe('TokenFile', () => {
  it('reads uint16 files at any offset, as np.memmap would', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 65535);
    const file = writeTokens('a.bin', ids, 'uint16');
    const tokens = TokenFile.open(file, { dtype: 'uint16' });
    expect(tokens.length).toBe(1000);
    expect(Array.from(tokens.read(123, 10))).toEqual(ids.slice(123, 133));
    tokens.close();
  });

  it('reads uint32 from the sidecar and checks its count', () => {
    const ids = [70000, 5, 99999, 0];
    const sidecar = { format: 'cs336-tokens', dtype: 'uint32', count: 4, vocabSize: 100000, tokenizerHash: 'abc', source: 'x' };
    const file = writeTokens('b.bin', ids, 'uint32', sidecar);
    const tokens = TokenFile.open(file);
    expect(tokens.dtype).toBe('uint32');
    expect(tokens.vocabSize).toBe(100000);
    expect(Array.from(tokens.read(0, 4))).toEqual(ids);
    tokens.close();
    const stale = writeTokens('c.bin', ids, 'uint32', { ...sidecar, count: 5 });
    expect(() => TokenFile.open(stale)).toThrow(/sidecar says 5 tokens but the file holds 4/);
  });

  it('names the file and offset of a token id outside the vocabulary', () => {
    const file = writeTokens('d.bin', [1, 2, 3, 500, 4, 5], 'uint16');
    const tokens = TokenFile.open(file, { vocabSize: 256, dtype: 'uint16' });
    expect(() => tokens.read(0, 6)).toThrow(new RegExp(`d\\.bin: token id 500 at token offset 3 is not below the vocabulary size 256`));
    tokens.close();
  });

  it('refuses a file that is not a whole number of tokens, and a model vocabulary smaller than the data', () => {
    const odd = path.join(dir, 'odd.bin');
    fs.writeFileSync(odd, Buffer.from([1, 2, 3]));
    expect(() => TokenFile.open(odd, { dtype: 'uint16' })).toThrow(/not a whole number of uint16 tokens/);
    expect(() => TokenFile.open(odd, { dtype: 'uint32' })).toThrow(/3 bytes is not a whole number of uint32 tokens/);
    const file = writeTokens('e.bin', [1, 2], 'uint16', { format: 'cs336-tokens', dtype: 'uint16', count: 2, vocabSize: 1000 });
    expect(() => TokenFile.open(file, { vocabSize: 500 })).toThrow(/vocabulary of 1000 but the model has only 500/);
  });
});

describe('TokenFile dtype and id scan', () => {
  // Before: a file without a sidecar was read as uint16, so uint32 ids [70000, 5] became [4464, 1, 5, 0].
  it('needs the dtype from a sidecar or the caller, and never guesses', () => {
    const file = writeTokens('u32.bin', [70000, 5, 99999, 0], 'uint32');
    expect(() => TokenFile.open(file)).toThrow(/u32\.bin: no sidecar .* says whether it holds uint16 or uint32 ids; give the dtype \(cs336 train --data-dtype uint16\|uint32/);
    const tokens = TokenFile.open(file, { dtype: 'uint32' });
    expect(Array.from(tokens.read(0, 4))).toEqual([70000, 5, 99999, 0]);
    tokens.close();
    const withSidecar = writeTokens('u16s.bin', [1, 2], 'uint16', { format: 'cs336-tokens', dtype: 'uint16', count: 2, vocabSize: 10 });
    expect(() => TokenFile.open(withSidecar, { dtype: 'uint32' })).toThrow(/sidecar says dtype uint16 but uint32 was asked for/);
    expect(() => TokenFile.open(file, { dtype: 'int8' as never })).toThrow(/dtype must be "uint16" or "uint32", got "int8"/);
  });

  it('scanIds finds the first id outside the vocabulary anywhere in the file, across chunks', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => i % 100);
    ids[7777] = 300;
    ids[9000] = 400;
    for (const dtype of ['uint16', 'uint32'] as const) {
      const tokens = TokenFile.open(writeTokens(`scan-${dtype}.bin`, ids, dtype), { dtype });
      expect(() => tokens.scanIds(256, 1000)).toThrow(new RegExp(`scan-${dtype}\\.bin: token id 300 at token offset 7777 is not below the vocabulary size 256`));
      expect(tokens.scanIds(401, 1000)).toBe(400);
      tokens.close();
    }
    const empty = TokenFile.open(writeTokens('empty.bin', [], 'uint16'), { dtype: 'uint16' });
    expect(empty.scanIds(10)).toBe(-1);
    empty.close();
  });

  it('LargestIdScanner gives the largest id over chunks cut anywhere, mid-id and at odd offsets', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (const dtype of ['uint16', 'uint32'] as const) {
      const limit = dtype === 'uint16' ? 2 ** 16 : 2 ** 32;
      for (let trial = 0; trial < 20; trial++) {
        const ids = Array.from({ length: 1 + (next() % 3000) }, () => next() % 1000);
        ids[next() % ids.length] = limit - 1 - (next() % 5); // one large id, with high bytes set
        const bytes = fs.readFileSync(writeTokens(`scanner-${dtype}.bin`, ids, dtype));
        // An unaligned copy: the scanner must not assume the chunk's byteOffset is a multiple of the width.
        const unaligned = new Uint8Array(bytes.length + 1).subarray(1);
        unaligned.set(bytes);
        const scanner = new LargestIdScanner(dtype);
        for (let at = 0; at < unaligned.length;) {
          const length = Math.min(unaligned.length - at, next() % 9); // 0..8 bytes: empty chunks and splits inside an id
          scanner.push(unaligned.subarray(at, at + length));
          at += length;
        }
        expect(scanner.largest).toBe(Math.max(...ids));
      }
    }
    expect(new LargestIdScanner('uint16').largest).toBe(-1);
  });
});

describe('getBatch', () => {
  const ids = Array.from({ length: 500 }, (_, i) => i);
  it('samples windows whose targets are the inputs shifted by one', () => {
    const tokens = TokenFile.open(writeTokens('f.bin', ids, 'uint16'), { dtype: 'uint16' });
    const { inputs, targets } = getBatch(tokens, 4, 16, Random.seeded(3));
    expect(inputs.length).toBe(64);
    for (let b = 0; b < 4; b++) {
      const start = Number(inputs[b * 16]);
      for (let t = 0; t < 16; t++) {
        expect(inputs[b * 16 + t]).toBe(BigInt(start + t)); // contiguous in the file
        expect(targets[b * 16 + t]).toBe(BigInt(start + t + 1));
      }
    }
    tokens.close();
  });

  it('is reproducible from the seed and covers every start, including the last full window', () => {
    const tokens = TokenFile.open(writeTokens('g.bin', ids.slice(0, 20), 'uint16'), { dtype: 'uint16' });
    const a = sampleWindows(tokens, 8, 5, Random.seeded(9, 1));
    const b = sampleWindows(tokens, 8, 5, Random.seeded(9, 1));
    expect(a).toEqual(b);
    const starts = new Set<number>();
    const random = Random.seeded(11);
    for (let i = 0; i < 200; i++) starts.add(Number(sampleWindows(tokens, 1, 5, random)[0]));
    expect([...starts].sort((x, y) => x - y)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    tokens.close();
  });

  it('says when the context is longer than the data', () => {
    const tokens = TokenFile.open(writeTokens('h.bin', [1, 2, 3], 'uint16'), { dtype: 'uint16' });
    expect(() => getBatch(tokens, 1, 8, Random.seeded(1))).toThrow(/3 tokens cannot fill one window of 9/);
    tokens.close();
  });
});

describe('sequentialWindows', () => {
  it('walks the file in order with stride T so each token is a target once', () => {
    const tokens = TokenFile.open(writeTokens('i.bin', Array.from({ length: 41 }, (_, i) => i), 'uint16'), { dtype: 'uint16' });
    const batches = [...sequentialWindows(tokens, 2, 4)];
    expect(batches.length).toBe(5); // 10 windows of 5 tokens, stride 4
    const targets = batches.flatMap((w) => [0, 1].flatMap((b) => Array.from(w.subarray(b * 5 + 1, b * 5 + 5), Number)));
    expect(targets).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect([...sequentialWindows(tokens, 2, 4, 2)].length).toBe(2);
    tokens.close();
  });
});
