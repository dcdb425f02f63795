import fc from 'fast-check';
import { PairTable } from './pair-table.js';
import { PairWordLists } from './pair-word-lists.js';
import { decodeWordList, WordListWriter } from './word-list-coding.js';

/** An ascending list of `length` word ids, derived from `pair`. */
function wordsOf(pair: number, length: number): number[] {
  const ids: number[] = [];
  for (let i = 0, id = pair % 7; i < length; i++, id += 1 + ((i * 7919 + pair) % 300)) ids.push(id);
  return ids;
}

function coded(ids: number[]): Uint8Array {
  const writer = new WordListWriter();
  for (const id of ids) writer.push(id);
  return writer.take();
}

describe('PairWordLists', () => {
  it('keeps every live list intact through drops, moves and growth, like a Map of arrays', () => {
    const op = fc.oneof(
      fc.record({ append: fc.nat(50), length: fc.integer({ min: 1, max: 30_000 }) }),
      fc.record({ drop: fc.nat(50) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const table = new PairTable(4);
      const lists = new PairWordLists(table);
      const reference = new Map<number, number[]>();
      let next = 0; // each append makes a new pair, as each merge does
      for (const o of ops) {
        if ('append' in o) {
          const pair = next++ * 100 + o.append;
          const words = wordsOf(pair, o.length);
          table.add(pair, words.length);
          lists.append(pair, coded(words));
          reference.set(pair, words);
        } else {
          const pair = [...reference.keys()][o.drop % Math.max(1, reference.size)];
          if (pair === undefined) continue;
          table.delete(pair); // merged, or its count reached 0
          reference.delete(pair);
        }
        for (const [pair, words] of reference) {
          const list = table.list(pair);
          const got = decodeWordList(lists.bytes, lists.start(list), lists.end(list));
          if (got.length !== words.length || got.some((w, i) => w !== words[i])) expect(got).toEqual(words);
        }
      }
    }), { numRuns: 30 });
  });

  it('reuses the space of dead lists instead of growing', () => {
    const table = new PairTable();
    const lists = new PairWordLists(table);
    const first = lists.bytes.length;
    for (let pair = 0; pair < 20; pair++) {
      table.add(pair, 1);
      lists.append(pair, new Uint8Array(first / 8).fill(pair)); // ids pair + 1 apart
      if (pair > 0) table.delete(pair - 1);
    }
    // 20 lists of an eighth of the pool were appended, but never more than two were live.
    expect(lists.bytes.length).toBe(first);
    const last = table.list(19);
    expect([...new Set(lists.bytes.subarray(lists.start(last), lists.end(last)))]).toEqual([19]);
  });
});
