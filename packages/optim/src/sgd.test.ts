import { resolveSgdConfig, sgdLearningRate, sgdStep } from './sgd.js';

describe('sgdStep', () => {
  it('takes θ − lr·g and skips parameters without a gradient', () => {
    const a = Float64Array.from([1, 2, 3]);
    const b = Float32Array.from([5, 6]);
    sgdStep([a, b], [Float64Array.from([0.5, -1, 2]), null], resolveSgdConfig({ lr: 0.1 }));
    expect(Array.from(a)).toEqual([1 - 0.05, 2 + 0.1, 3 - 0.2]);
    expect(Array.from(b)).toEqual([5, 6]);
  });

  it("follows the course's lr/sqrt(t+1) example: minimising mean(w²) shrinks w", () => {
    // The course's SGD example loop: loss = mean(w²), 10 steps at lr 1; w shrinks towards 0.
    const config = resolveSgdConfig({ lr: 1, inverseSqrtDecay: true });
    const w = Float64Array.from([3, -4, 2, 1]);
    let t = 0;
    let previous = Infinity;
    for (let i = 0; i < 10; i++) {
      const loss = w.reduce((s, x) => s + x * x, 0) / w.length;
      expect(loss).toBeLessThan(previous);
      previous = loss;
      const expected = Array.from(w, (x) => x - (1 / Math.sqrt(i + 1)) * ((2 * x) / w.length));
      t = sgdStep([w], [w.map((x) => (2 * x) / w.length)], config, t);
      expect(t).toBe(i + 1);
      w.forEach((x, j) => expect(x).toBeCloseTo(expected[j]!, 14));
    }
    expect(sgdLearningRate(config, 3)).toBe(0.5);
  });

  it('rejects mismatched gradients and bad rates', () => {
    expect(() => sgdStep([new Float64Array(2)], [new Float64Array(3)], resolveSgdConfig())).toThrow(/parameter 0 has 2 elements but its gradient has 3/);
    expect(() => resolveSgdConfig({ lr: -1 })).toThrow(/lr must be/);
  });
});
