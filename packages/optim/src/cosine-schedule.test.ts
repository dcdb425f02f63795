import { cosineLearningRate, resolveCosineScheduleConfig } from './cosine-schedule.js';

describe('cosineLearningRate', () => {
  // The course test: max 1, min 0.1, warmup 7, cosine cycle 21, t = 0..24. Its 25 expected values:
  const COURSE_EXPECTED = [
    0, 0.14285714285714285, 0.2857142857142857, 0.42857142857142855, 0.5714285714285714, 0.7142857142857143,
    0.8571428571428571, 1.0, 0.9887175604818206, 0.9554359905560885, 0.9018241671106134, 0.8305704108364301,
    0.7452476826029011, 0.6501344202803414, 0.55, 0.44986557971965857, 0.3547523173970989, 0.26942958916356996,
    0.19817583288938662, 0.14456400944391146, 0.11128243951817937, 0.1, 0.1, 0.1, 0.1,
  ];
  const config = resolveCosineScheduleConfig({ maxLearningRate: 1, minLearningRate: 0.1, warmupIters: 7, cosineCycleIters: 21 });

  it("reproduces the course test's 25 values", () => {
    COURSE_EXPECTED.forEach((value, t) => expect(cosineLearningRate(t, config)).toBeCloseTo(value, 15));
  });

  it('agrees with the cos² form of the same schedule', () => {
    // ½(1 + cos θ) = cos²(θ/2): an independent way to write the decay segment.
    for (let t = 0; t <= 30; t += 0.5) {
      const expected = t < 7 ? t / 7 : t > 21 ? 0.1 : 0.1 + 0.9 * Math.cos(((t - 7) / 14) * (Math.PI / 2)) ** 2;
      expect(cosineLearningRate(t, config)).toBeCloseTo(expected, 14);
    }
  });

  it('rejects a cycle shorter than warmup', () => {
    expect(() => resolveCosineScheduleConfig({ warmupIters: 10, cosineCycleIters: 5 })).toThrow(/cosineCycleIters \(5\) must be ≥ warmupIters \(10\)/);
  });
});
