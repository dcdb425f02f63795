import fs from 'node:fs';
import { adamwStep, adamwStepSize, createAdamWState, resolveAdamWConfig } from './adamw.js';
import { describeWithFixtures, fixturePath, projectFixturePath, readNpy } from '../../../test-support/fixtures.js';

const f32 = Math.fround;

interface AdamWInputs {
  hyperparameters: { lr: number; weight_decay: number; betas: [number, number]; eps: number; steps: number };
  initial_weight: number[][];
  x_per_step: number[][];
}

describeWithFixtures('adamwStep vs the course fixture (adamw_expected_params)', () => {
  it('reproduces adamw_expected_params.npy to 1e-6 after 1000 steps', () => {
    const inputs = JSON.parse(fs.readFileSync(projectFixturePath('adamw-test-inputs.json'), 'utf8')) as AdamWInputs;
    const expected = readNpy(fixturePath('derived', 'npy', 'adamw_expected_params.npy'));
    const hp = inputs.hyperparameters;
    const config = resolveAdamWConfig({ lr: hp.lr, weightDecay: hp.weight_decay, beta1: hp.betas[0], beta2: hp.betas[1], eps: hp.eps });
    // The course model: nn.Linear(3, 2, bias=False); target y = [x0 + x1, −x2]; loss = Σ (y − W x)².
    const weight = Float32Array.from(inputs.initial_weight.flat());
    const state = createAdamWState([weight]);
    expect(inputs.x_per_step).toHaveLength(hp.steps);
    for (const x of inputs.x_per_step) {
      const target = [x[0]! + x[1]!, -x[2]!];
      const grad = new Float32Array(6);
      for (let i = 0; i < 2; i++) {
        // float32 throughout, like the torch model the fixture came from (Math.fround after each operation).
        let prediction = 0;
        for (let j = 0; j < 3; j++) prediction = f32(prediction + f32(weight[i * 3 + j]! * x[j]!));
        // ∂/∂W_ij of (y_i − W_i·x)² = −2 (y_i − W_i·x) x_j
        for (let j = 0; j < 3; j++) grad[i * 3 + j] = f32(f32(-2 * f32(f32(target[i]!) - prediction)) * x[j]!);
      }
      adamwStep([weight], [grad], state, config);
    }
    expect(state.step).toBe(1000);
    expect(expected.shape).toEqual([2, 3]);
    weight.forEach((w, i) => expect(Math.abs(w - Number(expected.data[i]))).toBeLessThan(1e-6));
  });
});

describe('adamwStep', () => {
  it('takes the first step of Algorithm 1 by hand (t = 1)', () => {
    const config = resolveAdamWConfig({ lr: 0.1, weightDecay: 0.5 });
    const p = Float64Array.from([1, -2]);
    const g = Float64Array.from([0.5, 3]);
    const state = createAdamWState([p]);
    adamwStep([p], [g], state, config);
    // t = 1: m = 0.1 g, v = 0.001 g², α_1 = 0.1·sqrt(0.001)/0.1, so the step is ≈ 0.1·sign(g); then θ·(1 − 0.05).
    const expected = [1, -2].map((theta, i) => {
      const gi = g[i]!;
      const m = 0.1 * gi, v = 0.001 * gi * gi;
      const updated = theta - ((0.1 * Math.sqrt(0.001)) / 0.1) * (m / (Math.sqrt(v) + 1e-8));
      return updated * (1 - 0.1 * 0.5);
    });
    expect(p[0]).toBeCloseTo(expected[0]!, 14);
    expect(p[1]).toBeCloseTo(expected[1]!, 14);
    expect(state.step).toBe(1);
    expect(adamwStepSize(config, 1)).toBeCloseTo(0.1 * Math.sqrt(0.001) / 0.1, 15);
  });

  it('skips parameters without gradients and leaves their moments at zero', () => {
    const config = resolveAdamWConfig();
    const a = Float32Array.from([1, 2]);
    const b = Float32Array.from([3]);
    const state = createAdamWState([a, b]);
    adamwStep([a, b], [Float32Array.from([1, 1]), undefined], state, config);
    expect(Array.from(b)).toEqual([3]);
    expect(Array.from(state.m[1]!)).toEqual([0]);
    expect(a[0]).not.toBe(1);
  });

  it('names bad hyperparameters and mismatched state', () => {
    expect(() => resolveAdamWConfig({ beta2: 1 })).toThrow(/beta2 must be in \[0, 1\), got 1/);
    expect(() => resolveAdamWConfig({ eps: 0 })).toThrow(/eps must be a positive/);
    const state = createAdamWState([new Float32Array(1)]);
    expect(() => adamwStep([new Float32Array(1), new Float32Array(1)], [null, null], state, resolveAdamWConfig())).toThrow(/createAdamWState/);
  });
});
