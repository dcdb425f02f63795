import fc from 'fast-check';
import { countChunk, findChunkCut, PretokenTable } from './count-pretokens.js';

type PretokenCounts = Map<string, number>;
import { GPT2_PATTERN, specialTokenPattern } from './pretokenize.js';

/** Independent reference: split on specials with indexOf-free logic (RegExp), count RegExp matches. */
function referenceCounts(text: string, specials: string[]): PretokenCounts {
  const counts: PretokenCounts = new Map();
  const sorted = [...specials].sort((a, b) => b.length - a.length);
  let pieceStart = 0;
  let i = 0;
  const pieces: string[] = [];
  while (i < text.length) {
    const hit = sorted.find((s) => text.startsWith(s, i));
    if (hit) {
      pieces.push(text.slice(pieceStart, i));
      i += hit.length;
      pieceStart = i;
    } else i++;
  }
  pieces.push(text.slice(pieceStart));
  for (const piece of pieces) {
    for (const m of piece.matchAll(new RegExp(GPT2_PATTERN.source, GPT2_PATTERN.flags))) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  }
  return counts;
}

const sorted = (counts: PretokenCounts) => [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

const PIECES = [' ', '  ', '\n', '\u00a0', '\u3000', 'a', 'bc', "'s", "'", '7', '.', '😀', '<|e|>', '<|e|><|e|>', '<|e', '|>', 'é', ' <|e|> '];
const text = fc.array(fc.constantFrom(...PIECES), { maxLength: 60 }).map((p) => p.join(''));
const specialSets = fc.constantFrom<string[]>([], ['<|e|>'], ['<|e|>', '<|e|><|e|>'], ['<|e|> ', 'a']);

describe('findChunkCut', () => {
  it('cuts only where counting the two sides separately gives the counts of the whole', () => {
    fc.assert(fc.property(text, specialSets, (whole, specials) => {
      const pattern = specials.length ? specialTokenPattern(specials) : null;
      const maxLength = Math.max(0, ...specials.map((s) => s.length));
      // Cut repeatedly, as the streaming reader does, then count every chunk.
      const counts = new PretokenTable();
      let rest = whole;
      for (let cut = findChunkCut(rest, pattern, maxLength); cut > 0; cut = findChunkCut(rest, pattern, maxLength)) {
        expect(cut).toBeLessThanOrEqual(rest.length);
        countChunk(rest.slice(0, cut), pattern, counts);
        rest = rest.slice(cut);
      }
      countChunk(rest, pattern, counts);
      expect(sorted(counts.toMap())).toEqual(sorted(referenceCounts(whole, specials)));
    }), { numRuns: 1500 });
  });

  it('finds a cut in ordinary text and none in a text without a safe point', () => {
    expect(findChunkCut('hello world again', null, 0)).toBe(11);
    expect(findChunkCut('helloworld', null, 0)).toBe(0);
    expect(findChunkCut('abcdef<|e|', /<\|e\|>/g, 5)).toBe(0); // the special might not be complete yet
    expect(findChunkCut('a<|e|>bc', /<\|e\|>/g, 5)).toBe(6);
    // Already checked up to 8: the space at 5 is not looked at again, the one at 9 is found.
    expect(findChunkCut('abcd efgh ijk', null, 0, 8)).toBe(9);
    expect(findChunkCut('abcd efghijk', null, 0, 8)).toBe(0);
  });
});

describe('PretokenTable.pack', () => {
  it('moves a table whole and sums it into another, including astral keys, lone surrogates and whitespace', () => {
    const counts = new PretokenTable();
    for (const [key, n] of [['a', 3], [' 😀', 1], ['\n\n', 7], ['\ud800', 2]] as const) counts.add(key, 0, key.length, n);
    const moved = PretokenTable.fromPacked(structuredClone(counts.pack()));
    const into = new PretokenTable();
    into.add('xa', 1, 2);
    into.add('\ufffd', 0, 1); // the same bytes as a lone surrogate (EF BF BD), as training sees them
    into.addAll(moved);
    expect(sorted(into.toMap())).toEqual(sorted(new Map([['a', 4], [' 😀', 1], ['\n\n', 7], ['\ufffd', 3]])));
  });
});
