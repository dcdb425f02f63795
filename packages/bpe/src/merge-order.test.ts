import fc from 'fast-check';
import { compareBytes, compareMergeCandidates, comparePairs } from './merge-order.js';

// Independent reference: Latin-1 strings compare code unit by code unit, exactly like bytes.
const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const sign = (x: number) => Math.sign(x);
const cmpStr = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const bytes = fc.uint8Array({ maxLength: 4, max: 3 }); // tiny alphabet so prefixes and ties are common

describe('merge order', () => {
  it('compareBytes agrees with Latin-1 string order', () => {
    fc.assert(fc.property(bytes, bytes, (a, b) => {
      expect(sign(compareBytes(a, b))).toBe(cmpStr(latin1(a), latin1(b)));
    }), { numRuns: 500 });
  });

  it('comparePairs is tuple order (left first), not order of the concatenation', () => {
    fc.assert(fc.property(bytes, bytes, bytes, bytes, (la, ra, lb, rb) => {
      const expected = cmpStr(latin1(la), latin1(lb)) || cmpStr(latin1(ra), latin1(rb));
      expect(sign(comparePairs(la, ra, lb, rb))).toBe(expected);
    }), { numRuns: 500 });
    // ("a", "bc") vs ("ab", "c"): same concatenation, but "a" < "ab".
    const e = new TextEncoder();
    expect(comparePairs(e.encode('a'), e.encode('bc'), e.encode('ab'), e.encode('c'))).toBeLessThan(0);
  });

  it('count decides first, the pair only breaks ties', () => {
    const e = new TextEncoder();
    expect(compareMergeCandidates(5, e.encode('a'), e.encode('b'), 4, e.encode('z'), e.encode('z'))).toBeGreaterThan(0);
    expect(compareMergeCandidates(4, e.encode('a'), e.encode('b'), 4, e.encode('z'), e.encode('z'))).toBeLessThan(0);
  });
});
