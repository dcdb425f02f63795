/**
 * Plain SGD, θ ← θ − lr_t·g, with the course's example schedule as an option:
 * lr_t = lr / sqrt(t + 1), where t counts the steps already taken (0 on the first step).
 */
import { checkConfigFields, fieldTypesOf } from '@cs336/graph';
import { checkParamsAndGrads, checkPositiveFinite, type FloatArray } from './float-array.js';

export interface SgdConfig {
  /** Base learning rate. */
  lr: number;
  /** Use the course's decaying rate lr / sqrt(t + 1) instead of a constant lr. */
  inverseSqrtDecay: boolean;
}

export const DEFAULT_SGD_CONFIG: Readonly<SgdConfig> = Object.freeze({ lr: 1e-3, inverseSqrtDecay: false });

export function resolveSgdConfig(partial: Partial<SgdConfig> = {}): Readonly<SgdConfig> {
  checkConfigFields('SgdConfig', partial, fieldTypesOf(DEFAULT_SGD_CONFIG));
  const config = { ...DEFAULT_SGD_CONFIG, ...partial };
  checkPositiveFinite('SgdConfig', 'lr', config.lr, true);
  return Object.freeze(config);
}

/** The learning rate SGD uses on step t (t = steps already taken). */
export function sgdLearningRate(config: SgdConfig, t: number): number {
  return config.inverseSqrtDecay ? config.lr / Math.sqrt(t + 1) : config.lr;
}

/**
 * One SGD step in place. Parameters whose gradient is null/undefined are left alone.
 * `t` is the number of steps already taken; returns t + 1 so callers can thread it through.
 */
export function sgdStep(
  params: readonly FloatArray[],
  grads: readonly (FloatArray | null | undefined)[],
  config: SgdConfig,
  t = 0,
): number {
  checkParamsAndGrads('sgdStep', params, grads);
  const lr = sgdLearningRate(config, t);
  params.forEach((p, i) => {
    const g = grads[i];
    if (!g) return;
    for (let j = 0; j < p.length; j++) p[j] = p[j]! - lr * g[j]!;
  });
  return t + 1;
}
