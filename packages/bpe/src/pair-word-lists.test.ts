import fc from 'fast-check';
import { PairWordLists } from './pair-word-lists.js';

describe('PairWordLists', () => {
  it('keeps every live list intact through drops, moves and growth, like a Map of arrays', () => {
    const op = fc.oneof(
      fc.record({ append: fc.nat(50), words: fc.array(fc.nat(1000), { minLength: 1, maxLength: 30_000 }) }),
      fc.record({ drop: fc.nat(50) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const lists = new PairWordLists();
      const reference = new Map<number, number[]>();
      let next = 0; // each append makes a new pair, as each merge does
      for (const o of ops) {
        if ('append' in o) {
          const pair = next++ * 100 + o.append;
          lists.append(pair, o.words);
          reference.set(pair, o.words);
        } else {
          const pair = [...reference.keys()][o.drop % Math.max(1, reference.size)];
          if (pair === undefined) continue;
          lists.drop(pair);
          reference.delete(pair);
        }
        for (const [pair, words] of reference) {
          const list = lists.find(pair);
          expect([...lists.ids.subarray(lists.start(list), lists.end(list))]).toEqual(words);
        }
      }
      expect(lists.find(-1)).toBe(-1);
    }), { numRuns: 60 });
  });
});
