import fc from 'fast-check';
import { MAX_NARROW_PAIR, PairTable } from './pair-table.js';

describe('PairTable', () => {
  // Few distinct keys (some near the top of each key width) and many deletes: slots get reused.
  const runOps = (narrowKeys: boolean, bigKeys: number[]) => {
    const key = fc.oneof(fc.nat(40), fc.constantFrom(0, ...bigKeys));
    const op = fc.oneof(
      fc.record({ add: key, delta: fc.integer({ min: -3, max: 5 }) }),
      fc.record({ remove: key }),
      fc.record({ setList: key, list: fc.nat(100) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
      const table = new PairTable(2, narrowKeys);
      const counts = new Map<number, number>();
      const lists = new Map<number, number>();
      for (const o of ops) {
        if ('add' in o) {
          const next = (counts.get(o.add) ?? 0) + o.delta;
          if (!counts.has(o.add) && o.delta <= 0) {
            // nothing to take from: stays absent
          } else if (next > 0) {
            if (!counts.has(o.add)) lists.set(o.add, -1);
            counts.set(o.add, next);
          } else {
            counts.delete(o.add);
            lists.delete(o.add);
          }
          expect(table.add(o.add, o.delta)).toBe(counts.get(o.add) ?? 0);
        } else if ('remove' in o) {
          counts.delete(o.remove);
          lists.delete(o.remove);
          table.delete(o.remove);
        } else {
          if (counts.has(o.setList)) lists.set(o.setList, o.list);
          table.setList(o.setList, o.list);
        }
      }
      expect(table.size).toBe(counts.size);
      const seen = new Map<number, number>();
      table.forEach((pair, count) => seen.set(pair, count));
      expect([...seen].sort((a, b) => a[0] - b[0])).toEqual([...counts].sort((a, b) => a[0] - b[0]));
      for (const k of [0, 1, 7, 39, ...bigKeys]) {
        expect(table.count(k)).toBe(counts.get(k) ?? 0);
        expect(table.list(k)).toBe(lists.get(k) ?? -1);
      }
    }), { numRuns: 300 });
  };

  it('counts like a Map, forgetting pairs at 0, through tombstones and rebuilds (64-bit keys)', () => {
    runOps(false, [2 ** 32 + 5, 2 ** 40 + 1, 2 ** 52 - 3]);
  });

  it('counts like a Map with 32-bit keys, up to the largest key it holds', () => {
    runOps(true, [2 ** 31 + 3, MAX_NARROW_PAIR - 1, MAX_NARROW_PAIR]);
  });

  it('refuses a pair number its keys cannot hold, by name', () => {
    expect(() => new PairTable(4, true).add(MAX_NARROW_PAIR + 1, 1)).toThrow(/pair number 4294967294 is outside 0\.\.4294967293 for 32-bit keys/);
    expect(() => new PairTable(4, false).add(2 ** 53 - 1, 1)).toThrow(/outside/);
    expect(() => new PairTable(4, false).add(0.5, 1)).toThrow(/outside/);
    expect(() => new PairTable(3)).toThrow(/power of two/);
  });
});
