import fc from 'fast-check';
import { decodeWordList, varintLength, WordListWriter, writeVarint } from './word-list-coding.js';

/** Bytes of LEB128 for v, from the definition: one per started group of 7 bits. */
const leb128Bytes = (v: number) => Math.max(1, Math.ceil(Math.log2(v + 1) / 7));

describe('word-list coding', () => {
  it('writes and reads back any ascending list, in the bytes LEB128 of the gaps takes', () => {
    // Gaps from 1 to above 2^28 (5-byte varints), ids up to 2^31 - 1.
    const gaps = fc.array(fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 1 << 15 }), fc.integer({ min: 1, max: 2 ** 29 })), { maxLength: 300 });
    fc.assert(fc.property(gaps, fc.nat(3), (steps, lists) => {
      const writer = new WordListWriter();
      for (let l = 0; l <= lists; l++) { // several lists through one writer: each starts fresh
        const ids: number[] = [];
        let id = -1;
        for (const g of steps.slice(l)) {
          if (id + g > 2 ** 31 - 1) break;
          id += g;
          ids.push(id);
        }
        for (const i of ids) writer.push(i);
        expect(writer.length).toBe(ids.reduce((sum, i, k) => sum + leb128Bytes(i - (k === 0 ? -1 : ids[k - 1]!) - 1), 0));
        const bytes = writer.take();
        expect(decodeWordList(bytes)).toEqual(ids);
      }
    }), { numRuns: 300 });
  });

  it('varintLength matches what writeVarint writes, at every group boundary', () => {
    const out = new Uint8Array(8);
    for (const v of [0, 1, 127, 128, 2 ** 14 - 1, 2 ** 14, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 31 - 1]) {
      expect(writeVarint(out, 0, v)).toBe(varintLength(v));
      expect(varintLength(v)).toBe(leb128Bytes(v));
      expect(decodeWordList(out, 0, varintLength(v))).toEqual([v]); // a lone gap from -1
    }
    // A run of consecutive ids is one zero byte each.
    const writer = new WordListWriter();
    for (let i = 0; i < 10_000; i++) writer.push(i);
    expect([...new Set(writer.take())]).toEqual([0]);
  });

  it('refuses ids that do not ascend', () => {
    const writer = new WordListWriter();
    writer.push(5);
    expect(() => writer.push(5)).toThrow(/ascend/);
  });
});
