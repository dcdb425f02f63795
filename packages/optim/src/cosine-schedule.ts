/**
 * The course's learning-rate schedule (`get_lr_cosine_schedule`): linear warmup, cosine decay, then a floor.
 *   t < Tw:        α_t = t/Tw · αmax
 *   Tw ≤ t ≤ Tc:   α_t = αmin + ½(1 + cos((t − Tw)/(Tc − Tw) · π)) · (αmax − αmin)
 *   t > Tc:        α_t = αmin
 * Pure: depends only on the step, so it can run on the host and be fed to a graph as an input.
 */
import { checkConfigFields, fieldTypesOf } from '@cs336/graph';

export interface CosineScheduleConfig {
  /** αmax, reached at the end of warmup. */
  maxLearningRate: number;
  /** αmin, held after the cosine cycle ends. */
  minLearningRate: number;
  /** Tw, number of warmup steps. */
  warmupIters: number;
  /** Tc, the step at which the cosine reaches αmin (Tc ≥ Tw). */
  cosineCycleIters: number;
}

export const DEFAULT_COSINE_SCHEDULE_CONFIG: Readonly<CosineScheduleConfig> = Object.freeze({
  maxLearningRate: 1e-3,
  minLearningRate: 1e-4,
  warmupIters: 100,
  cosineCycleIters: 10_000,
});

export function resolveCosineScheduleConfig(partial: Partial<CosineScheduleConfig> = {}): Readonly<CosineScheduleConfig> {
  checkConfigFields('CosineScheduleConfig', partial, fieldTypesOf(DEFAULT_COSINE_SCHEDULE_CONFIG));
  const c = { ...DEFAULT_COSINE_SCHEDULE_CONFIG, ...partial };
  for (const key of ['maxLearningRate', 'minLearningRate', 'warmupIters', 'cosineCycleIters'] as const) {
    if (!Number.isFinite(c[key]) || c[key] < 0) throw new Error(`CosineScheduleConfig: ${key} must be a non-negative number, got ${c[key]}`);
  }
  if (c.cosineCycleIters < c.warmupIters) {
    throw new Error(`CosineScheduleConfig: cosineCycleIters (${c.cosineCycleIters}) must be ≥ warmupIters (${c.warmupIters})`);
  }
  return Object.freeze(c);
}

export function cosineLearningRate(t: number, config: CosineScheduleConfig): number {
  const { maxLearningRate: max, minLearningRate: min, warmupIters: warmup, cosineCycleIters: cycle } = config;
  if (t < warmup) return (t / warmup) * max;
  if (t > cycle) return min;
  // Tw = Tc leaves no cosine segment: the only step in it is t = Tw, which sits at the peak.
  const progress = cycle === warmup ? 0 : (t - warmup) / (cycle - warmup);
  return min + 0.5 * (1 + Math.cos(progress * Math.PI)) * (max - min);
}
