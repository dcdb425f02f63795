import { DivergenceDetector, findDivergence } from './divergence.js';

const rule = { aboveStart: 1, aboveMinRatio: 1.5, afterStep: 3, smoothing: 0.5 };
const steps = (losses: number[]) => losses.map((trainLoss, i) => ({ step: i + 1, trainLoss }));

describe('divergence rule', () => {
  it('a falling loss never diverges', () => {
    expect(findDivergence(rule, steps([9, 8, 7, 6, 5, 4.5, 4.2]))).toBeUndefined();
  });
  it('a non-finite loss diverges at its step', () => {
    expect(findDivergence(rule, steps([9, 8, NaN]))).toEqual({ step: 3, reason: 'loss is NaN' });
    expect(findDivergence(rule, steps([9, Infinity]))?.step).toBe(2);
  });
  it('a smoothed loss more than aboveStart over the first step diverges; a one-step spike does not', () => {
    // Smoothed (weight 0.5): 9, 9.5, 10.25 > 9 + 1 at step 3.
    expect(findDivergence(rule, steps([9, 10, 11, 11]))?.step).toBe(3);
    // 9, 8, 7.5 (min), 9.75 (spike 12: not > 10), 8.375: a spike the run recovers from.
    expect(findDivergence({ ...rule, aboveMinRatio: 0 }, steps([9, 7, 7, 12, 7]))).toBeUndefined();
  });
  it('after afterStep, the smoothed loss over aboveMinRatio × its minimum diverges; before it, nothing counts', () => {
    // Smoothed (weight 0.5): 6, 4, 3, 2.5 (min after step 3), then 2.5 + 0.5·(5.6 − 2.5) = 4.05 ≤ 3.75? no: 4.05 > 1.5·2.5.
    expect(findDivergence(rule, steps([6, 2, 2, 2, 5.6]))).toMatchObject({ step: 5 });
    // The same rise at step 2 is before afterStep: only the start rule applies, and 5.6 < 6 + 1.
    expect(findDivergence(rule, steps([6, 2, 5.6]))).toBeUndefined();
  });
  it('one noisy batch does not trip the smoothed test', () => {
    const detector = new DivergenceDetector({ ...rule, smoothing: 0.1 });
    const losses = [6, 3, 3, 3, 3, 4.6, 3, 3];
    expect(losses.map((l, i) => detector.check(i + 1, l)).filter(Boolean)).toEqual([]);
  });
});
