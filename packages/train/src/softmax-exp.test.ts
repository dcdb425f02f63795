import { Random } from './random.js';
import { softmaxExp } from './softmax-exp.js';

/** Distance in units in the last place between two positive doubles (via their bit patterns). */
function ulps(a: number, b: number): number {
  const view = new DataView(new ArrayBuffer(16));
  view.setFloat64(0, a);
  view.setFloat64(8, b);
  return Number(view.getBigInt64(0) - view.getBigInt64(8));
}

describe('softmaxExp', () => {
  it('is within 2 ulps of Math.exp on [−745, 0], and exact where exp is exactly representable', () => {
    const random = Random.seeded(3);
    let worst = 0;
    for (let i = 0; i < 200_000; i++) {
      // Dense near 0 (where softmax lives) and spread out to the underflow edge.
      const x = i % 2 === 0 ? -random.nextFloat() * 2 : -random.nextFloat() * 745;
      const expected = Math.exp(x);
      if (expected < 2 ** -1022) continue; // subnormal: fewer bits, compared below
      worst = Math.max(worst, Math.abs(ulps(softmaxExp(x), expected)));
    }
    expect(worst).toBeLessThanOrEqual(2);
    expect(softmaxExp(0)).toBe(1);
    expect(softmaxExp(-0)).toBe(1);
    expect(softmaxExp(-Math.LN2 * 10)).toBeCloseTo(2 ** -10, 18);
  });

  it('underflows like exp: subnormals close to Math.exp, then 0, and −∞ gives 0', () => {
    for (const x of [-710, -720, -740, -744.4]) expect(Math.abs(softmaxExp(x) - Math.exp(x)) / Math.exp(x)).toBeLessThan(1e-6);
    for (const x of [-746, -1000, -1100, -5000, -Infinity]) expect(softmaxExp(x)).toBe(0);
  });
});
