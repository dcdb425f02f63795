import { PretokenCache } from './pretoken-cache.js';

describe('PretokenCache', () => {
  it('finds what was inserted, by content, and nothing else', () => {
    const cache = new PretokenCache(8);
    const text = 'xx hello world hello';
    const h = PretokenCache.hash(text, 3, 8);
    expect(PretokenCache.hash(text, 15, 20)).toBe(h); // same content elsewhere in the text
    cache.insert(text, 3, 8, h, Int32Array.of(7, 8, 9), 2);
    const entry = cache.find(text, 15, 20, h);
    expect(entry).toBeGreaterThanOrEqual(0);
    expect([...cache.ids.subarray(cache.valueStartOf(entry), cache.valueStartOf(entry) + cache.valueLengthOf(entry))]).toEqual([7, 8]);
    expect(cache.find(text, 9, 14, PretokenCache.hash(text, 9, 14))).toBe(-1);
  });

  it('tells apart keys whose hashes collide', () => {
    const cache = new PretokenCache(8);
    cache.insert('abc', 0, 3, 42, Int32Array.of(1), 1);
    cache.insert('abd', 0, 3, 42, Int32Array.of(2), 1);
    expect(cache.ids[cache.valueStartOf(cache.find('abd', 0, 3, 42))]).toBe(2);
    expect(cache.ids[cache.valueStartOf(cache.find('abc', 0, 3, 42))]).toBe(1);
    expect(cache.find('abe', 0, 3, 42)).toBe(-1);
  });

  it('empties itself when full instead of growing', () => {
    const cache = new PretokenCache(4);
    const keys = ['a', 'b', 'c', 'd', 'e'];
    for (const [i, key] of keys.entries()) cache.insert(key, 0, 1, PretokenCache.hash(key, 0, 1), Int32Array.of(i), 1);
    expect(cache.find('a', 0, 1, PretokenCache.hash('a', 0, 1))).toBe(-1);
    expect(cache.ids[cache.valueStartOf(cache.find('e', 0, 1, PretokenCache.hash('e', 0, 1)))]).toBe(4);
  });
});
