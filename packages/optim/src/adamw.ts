/**
 * AdamW exactly as the CS336 handout's Algorithm 1 (Loshchilov & Hutter), t counted from 1:
 *   m ← β1·m + (1−β1)·g          v ← β2·v + (1−β2)·g²
 *   α_t = α·sqrt(1−β2^t)/(1−β1^t)
 *   θ ← θ − α_t·m/(sqrt(v)+ε)     then the decoupled decay  θ ← θ − α·λ·θ
 * Arithmetic runs in the parameter's own precision: float32 parameters round after every operation
 * (Math.fround), as a float32 torch/numpy optimizer would, so long runs do not drift from float32 references.
 */
import { checkConfigFields, fieldTypesOf } from '@cs336/graph';
import { checkParamsAndGrads, checkPositiveFinite, type FloatArray } from './float-array.js';

export interface AdamWConfig {
  /** α, the learning rate (a schedule may override it per step). */
  lr: number;
  /** β1, decay of the first moment. */
  beta1: number;
  /** β2, decay of the second moment. */
  beta2: number;
  /** ε, added to sqrt(v) so a zero second moment does not divide by zero. */
  eps: number;
  /** λ, the decoupled weight-decay rate. */
  weightDecay: number;
}

export const DEFAULT_ADAMW_CONFIG: Readonly<AdamWConfig> = Object.freeze({
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0.01,
});

export function resolveAdamWConfig(partial: Partial<AdamWConfig> = {}): Readonly<AdamWConfig> {
  checkConfigFields('AdamWConfig', partial, fieldTypesOf(DEFAULT_ADAMW_CONFIG));
  const config = { ...DEFAULT_ADAMW_CONFIG, ...partial };
  checkPositiveFinite('AdamWConfig', 'lr', config.lr, true);
  checkPositiveFinite('AdamWConfig', 'eps', config.eps);
  checkPositiveFinite('AdamWConfig', 'weightDecay', config.weightDecay, true);
  for (const key of ['beta1', 'beta2'] as const) {
    const beta = config[key];
    if (!(beta >= 0 && beta < 1)) throw new Error(`AdamWConfig: ${key} must be in [0, 1), got ${beta}`);
  }
  return Object.freeze(config);
}

/** Per-parameter moments plus the number of steps taken so far. */
export interface AdamWState {
  step: number;
  m: FloatArray[];
  v: FloatArray[];
}

/** Zero moments shaped like `params` (same precision), step 0. */
export function createAdamWState(params: readonly FloatArray[]): AdamWState {
  const zerosLike = (p: FloatArray): FloatArray => (p instanceof Float64Array ? new Float64Array(p.length) : new Float32Array(p.length));
  return { step: 0, m: params.map(zerosLike), v: params.map(zerosLike) };
}

/** α_t of Algorithm 1 for step t ≥ 1. */
export function adamwStepSize(config: AdamWConfig, t: number, lr = config.lr): number {
  return (lr * Math.sqrt(1 - config.beta2 ** t)) / (1 - config.beta1 ** t);
}

/**
 * One AdamW step in place over every parameter with a gradient (null/undefined gradients are skipped, their
 * moments untouched). Increments `state.step` first, so the first call uses t = 1. `lr` overrides config.lr
 * (for schedules). Returns the t that was used.
 */
export function adamwStep(
  params: readonly FloatArray[],
  grads: readonly (FloatArray | null | undefined)[],
  state: AdamWState,
  config: AdamWConfig,
  lr = config.lr,
): number {
  checkParamsAndGrads('adamwStep', params, grads);
  if (state.m.length !== params.length || state.v.length !== params.length) {
    throw new Error(`adamwStep: state holds moments for ${state.m.length} parameters but ${params.length} were passed; create it with createAdamWState(params)`);
  }
  const t = ++state.step;
  const { beta1, beta2, eps, weightDecay } = config;
  params.forEach((p, i) => {
    const g = grads[i];
    if (!g) return;
    const r = p instanceof Float32Array ? Math.fround : (x: number) => x;
    // Scalars are worked out in float64 and rounded once, as numpy/torch do with Python-float hyperparameters.
    const [b1, b2, oneMinusB1, oneMinusB2, e, stepSize, decay] = [
      beta1, beta2, 1 - beta1, 1 - beta2, eps, adamwStepSize(config, t, lr), lr * weightDecay,
    ].map(r) as [number, number, number, number, number, number, number];
    const m = state.m[i]!;
    const v = state.v[i]!;
    if (p instanceof Float32Array) {
      // Two loops rather than one with a rounding callback: V8 keeps each monomorphic and fast.
      const f = Math.fround;
      for (let j = 0; j < p.length; j++) {
        const gj = g[j]!;
        const mj = (m[j] = f(f(b1 * m[j]!) + f(oneMinusB1 * gj)));
        const vj = (v[j] = f(f(b2 * v[j]!) + f(oneMinusB2 * f(gj * gj))));
        const updated = f(p[j]! - f(f(stepSize * mj) / f(f(Math.sqrt(vj)) + e)));
        p[j] = f(updated - f(decay * updated));
      }
      return;
    }
    for (let j = 0; j < p.length; j++) {
      const gj = g[j]!;
      const mj = (m[j] = b1 * m[j]! + oneMinusB1 * gj);
      const vj = (v[j] = b2 * v[j]! + oneMinusB2 * gj * gj);
      const updated = p[j]! - (stepSize * mj) / (Math.sqrt(vj) + e);
      p[j] = updated - decay * updated;
    }
  });
  return t;
}
