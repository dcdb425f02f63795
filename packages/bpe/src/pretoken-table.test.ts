import fc from 'fast-check';
import { PretokenTable } from './pretoken-table.js';

describe('PretokenTable', () => {
  it('counts ranges exactly like a Map of their UTF-8 bytes, through growth and colliding keys', () => {
    // A tiny alphabet gives many equal-length keys and repeated ranges; a 2-slot start forces many grows.
    const range = fc.tuple(fc.string({ unit: fc.constantFrom('a', 'b', 'é', '\ud83d', '\ude00', ' '), maxLength: 16 }), fc.nat(), fc.nat());
    fc.assert(fc.property(fc.array(range, { maxLength: 300 }), (ranges) => {
      // Also checked: the arrays survive a trip through `pack` (as between threads) mid-way.
      let table = new PretokenTable(2);
      const map = new Map<string, number>();
      for (const [i, [text, x, y]] of ranges.entries()) {
        if (i === ranges.length >> 1) table = PretokenTable.fromPacked(structuredClone(table.pack()));
        const start = text.length ? x % text.length : 0;
        const end = start + (text.length ? y % (text.length - start + 1) : 0);
        table.add(text, start, end);
        // Keys are UTF-8 bytes: a lone surrogate is U+FFFD, as TextEncoder writes it.
        const key = new TextDecoder().decode(new TextEncoder().encode(text.slice(start, end)));
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
