import fc from 'fast-check';
import { MergeScratch, MergeTable, bytePairMerge } from './byte-pair-merge.js';

/** A random BPE model over the letters a, b, c: ids 0..255 are bytes, each merge adds one token. */
function buildModel(picks: [number, number][]) {
  const tokens: string[] = Array.from({ length: 256 }, (_, b) => String.fromCharCode(b));
  const letters = [97, 98, 99];
  const pairs: [number, number, number][] = [];
  const idOf = new Map(tokens.map((t, id) => [t, id]));
  const pool = [...letters];
  for (const [i, j] of picks) {
    const left = pool[i % pool.length]!;
    const right = pool[j % pool.length]!;
    const merged = tokens[left]! + tokens[right]!;
    let id = idOf.get(merged);
    if (id === undefined) {
      id = tokens.push(merged) - 1;
      idOf.set(merged, id);
      pool.push(id);
    }
    pairs.push([left, right, id]);
  }
  return { tokens, pairs, idOf };
}

/** The textbook loop: merge the lowest-rank adjacent pair, leftmost on ties, until none is left. */
function naiveMerge(text: string, pairs: [number, number, number][], idOf: Map<string, number>, tokens: string[]): number[] {
  const rank = new Map<string, number>();
  pairs.forEach(([l, r], i) => {
    if (!rank.has(`${l},${r}`)) rank.set(`${l},${r}`, i);
  });
  const ids = [...text].map((ch) => idOf.get(ch)!);
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < ids.length; i++) {
      const r = rank.get(`${ids[i]},${ids[i + 1]}`);
      if (r !== undefined && r < bestRank) [best, bestRank] = [i, r];
    }
    if (best < 0) return ids;
    ids.splice(best, 2, idOf.get(tokens[ids[best]!]! + tokens[ids[best + 1]!]!)!);
  }
}

function fastMerge(text: string, table: MergeTable, linearMaxBytes: number): number[] {
  const scratch = new MergeScratch();
  scratch.ensure(text.length);
  for (let i = 0; i < text.length; i++) scratch.ids[i] = text.charCodeAt(i);
  const n = bytePairMerge(table, scratch, text.length, linearMaxBytes);
  return [...scratch.ids.subarray(0, n)];
}

const modelArb = fc.array(fc.tuple(fc.nat(1000), fc.nat(1000)), { maxLength: 60 });
const textArb = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 400 });

describe('bytePairMerge', () => {
  it('linear scan and heap both equal the textbook merge loop', () => {
    fc.assert(
      fc.property(modelArb, textArb, (picks, text) => {
        const { tokens, pairs, idOf } = buildModel(picks);
        const table = new MergeTable(Int32Array.from(pairs.flat()));
        const expected = naiveMerge(text, pairs, idOf, tokens);
        expect(fastMerge(text, table, Infinity)).toEqual(expected);
        expect(fastMerge(text, table, 0)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('merges leftmost first when the same pair repeats', () => {
    const { pairs } = buildModel([[0, 0]]); // a + a
    const table = new MergeTable(Int32Array.from(pairs.flat()));
    const aa = pairs[0]![2];
    for (const limit of [Infinity, 0]) expect(fastMerge('aaa', table, limit)).toEqual([aa, 97]);
  });

  it('keeps the first rank of a repeated merge and misses pairs that are not merges', () => {
    const table = new MergeTable(Int32Array.of(1, 2, 300, 3, 4, 301, 1, 2, 302));
    expect(table.rank(1, 2)).toBe(0);
    expect(table.rank(3, 4)).toBe(1);
    expect(table.rank(2, 1)).toBe(0x7fffffff);
    expect(table.mergedId[0]).toBe(300);
  });
});
