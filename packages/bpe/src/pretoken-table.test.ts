import fc from 'fast-check';
import { PretokenTable } from './pretoken-table.js';

describe('PretokenTable', () => {
  it('counts ranges exactly like a Map of slices, through growth and colliding keys', () => {
    // A tiny alphabet gives many equal-length keys and repeated ranges; a 2-slot start forces many grows.
    const range = fc.tuple(fc.string({ unit: fc.constantFrom('a', 'b', 'é', '\ud83d', '\ude00', ' '), maxLength: 16 }), fc.nat(), fc.nat());
    fc.assert(fc.property(fc.array(range, { maxLength: 300 }), (ranges) => {
      const table = new PretokenTable(2);
      const map = new Map<string, number>();
      for (const [text, x, y] of ranges) {
        const start = text.length ? x % text.length : 0;
        const end = start + (text.length ? y % (text.length - start + 1) : 0);
        table.add(text, start, end);
        const key = text.slice(start, end);
        map.set(key, (map.get(key) ?? 0) + 1);
      }
      expect(table.size).toBe(map.size);
      expect([...table.toMap()].sort()).toEqual([...map].sort());
    }), { numRuns: 200 });
  });

  it('adds weighted counts', () => {
    const table = new PretokenTable();
    table.add('the cat', 0, 3, 5);
    table.add('xthe', 1, 4, 2);
    expect(table.toMap()).toEqual(new Map([['the', 7]]));
  });
});
