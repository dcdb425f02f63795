import { Random } from './random.js';

/** xoshiro128** written the obvious way with BigInt masks, as an independent reference. */
function referenceXoshiro(words: number[], count: number): number[] {
  const mask = 0xffffffffn;
  const s = words.map(BigInt);
  const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (32n - k))) & mask;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    out.push(Number((rotl((s[1]! * 5n) & mask, 7n) * 9n) & mask));
    const t = (s[1]! << 9n) & mask;
    s[2]! ^= s[0]!; s[3]! ^= s[1]!; s[1]! ^= s[2]!; s[0]! ^= s[3]!; s[2]! ^= t;
    s[3] = rotl(s[3]!, 11n);
  }
  return out;
}

describe('Random (xoshiro128**)', () => {
  it('matches a BigInt reference implementation', () => {
    const random = Random.fromState({ algorithm: 'xoshiro128**', words: [1, 2, 3, 4] });
    const ours = Array.from({ length: 1000 }, () => random.nextUint32());
    expect(ours).toEqual(referenceXoshiro([1, 2, 3, 4], 1000));
    // First output by hand: rotl(2 * 5, 7) * 9 = 1280 * 9.
    expect(ours[0]).toBe(11520);
  });

  it('resumes exactly from a saved state, through JSON', () => {
    const a = Random.seeded(42);
    for (let i = 0; i < 17; i++) a.nextUint32();
    const b = Random.fromState(JSON.parse(JSON.stringify(a.state())));
    expect(Array.from({ length: 50 }, () => b.nextInt(1000))).toEqual(Array.from({ length: 50 }, () => a.nextInt(1000)));
  });

  it('depends only on the seeds, and different seeds give different streams', () => {
    expect(Random.seeded(7, 3).nextUint32()).toBe(Random.seeded(7, 3).nextUint32());
    const firsts = new Set([Random.seeded(7, 3), Random.seeded(7, 4), Random.seeded(8, 3), Random.seeded(3, 7)].map((r) => r.nextUint32()));
    expect(firsts.size).toBe(4);
  });

  it('draws nextInt uniformly (chi-square over 10 bins)', () => {
    const random = Random.seeded(1);
    const counts = new Array<number>(10).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) counts[random.nextInt(10)]!++;
    const expected = n / 10;
    const chi2 = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(27.9); // p = 0.001 for 9 degrees of freedom
    const f = Random.seeded(2).nextFloat();
    expect(f).toBeGreaterThanOrEqual(0);
    expect(f).toBeLessThan(1);
  });

  it('rejects bad seeds and states', () => {
    expect(() => Random.seeded(1.5)).toThrow(/not a safe integer/);
    expect(() => Random.fromState({ algorithm: 'xoshiro128**', words: [0, 0, 0, 0] })).toThrow(/all-zero/);
    expect(() => Random.seeded(1).nextInt(0)).toThrow(/positive/);
  });
});
