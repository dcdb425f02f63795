import fc from 'fast-check';
import { PairHeap } from './pair-heap.js';

describe('PairHeap', () => {
  const runOps = (narrowKeys: boolean, keys: fc.Arbitrary<number>) => {
    const op = fc.oneof(fc.record({ push: fc.tuple(keys, fc.integer({ min: 1, max: 5 })) }), fc.constant({ pop: true as const }));
    fc.assert(fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
      // Order: higher count first, then larger key (any total order will do for the heap itself).
      const before = (ka: number, ca: number, kb: number, cb: number) => ca - cb || ka - kb;
      const heap = new PairHeap(before, narrowKeys, 2); // tiny, so it grows
      const model: [number, number][] = [];
      for (const o of ops) {
        if ('push' in o) {
          heap.push(o.push[0], o.push[1]);
          model.push(o.push);
        } else if (model.length > 0) {
          model.sort(([ka, ca], [kb, cb]) => before(kb, cb, ka, ca));
          const [key, count] = model.shift()!;
          expect([heap.peekKey(), heap.peekCount()]).toEqual([key, count]);
          heap.pop();
        }
        expect(heap.size).toBe(model.length);
      }
    }), { numRuns: 300 });
  };

  it('pops in the order of a full sort, for any pushes interleaved with pops (64-bit keys)', () => {
    runOps(false, fc.oneof(fc.integer({ min: 0, max: 30 }), fc.constantFrom(2 ** 40 + 1, 2 ** 52 - 3)));
  });

  it('pops in the order of a full sort with 32-bit keys, and refuses a key above them', () => {
    runOps(true, fc.oneof(fc.integer({ min: 0, max: 30 }), fc.constantFrom(2 ** 31 + 1, 2 ** 32 - 1)));
    expect(() => new PairHeap(() => 0, true).push(2 ** 32, 1)).toThrow(/does not fit 32 bits/);
  });
});
