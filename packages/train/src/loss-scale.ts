/**
 * Dynamic loss scaling for float16 training (Micikevicius et al. 2018, "Mixed Precision Training"),
 * with torch.cuda.amp.GradScaler's rule and defaults: the logit gradient is multiplied by the loss
 * scale S before the float16 backward, so small gradients stay above float16's underflow
 * (2^-24); the float32 gradients are divided by S again before AdamW. A step whose gradients
 * overflowed (any Inf or NaN: their global norm is then not finite) is skipped — parameters and
 * moments are kept, AdamW's t does not advance — and S is halved. After `window` clean steps in a
 * row, S doubles. Both rules run inside the train_step graph, so a skipped step costs no host round trip.
 */
import { add, equal, less, mul, where, type Value } from '@cs336/graph';
import type { AdamWGraphState } from '@cs336/optim';

/** torch.cuda.amp.GradScaler's defaults: init_scale 2^16, growth_factor 2, backoff_factor 0.5, growth_interval 2000. */
export const DEFAULT_LOSS_SCALE = 2 ** 16;
export const DEFAULT_LOSS_SCALE_WINDOW = 2000;
export const LOSS_SCALE_GROWTH = 2;
export const LOSS_SCALE_BACKOFF = 0.5;

/** The loss-scaling part of the training state, carried between runs and saved in checkpoints. */
export interface LossScaleState {
  /** S, the loss scale the next step uses. */
  scale: number;
  /** Clean steps since S last changed (GradScaler's growth tracker). */
  cleanSteps: number;
  /** AdamW updates applied so far (steps minus skipped steps): the next update's t is this + 1. */
  appliedSteps: number;
}

/**
 * `next` where the (scaled) gradient norm is finite, else `before` unchanged: an overflowing step is
 * skipped. `finite` (bool scalar) is false for Inf and for NaN (NaN < Inf is false).
 */
export function skipUnlessFinite(gradientNorm: Value, before: AdamWGraphState, next: AdamWGraphState): { finite: Value; state: AdamWGraphState } {
  const finite = less(gradientNorm, Infinity);
  const pick = (after: Value[], kept: Value[]) => after.map((value, i) => where(finite, value, kept[i]!));
  return { finite, state: { params: pick(next.params, before.params), m: pick(next.m, before.m), v: pick(next.v, before.v) } };
}

/** GradScaler's update: overflow → S·0.5 and the count restarts; the window-th clean step in a row → S·2. */
export function lossScaleUpdate(finite: Value, scale: Value, cleanSteps: Value, window: number): { scale: Value; cleanSteps: Value } {
  const clean = add(cleanSteps, 1);
  const grow = equal(clean, window);
  return {
    scale: where(finite, where(grow, mul(scale, LOSS_SCALE_GROWTH), scale), mul(scale, LOSS_SCALE_BACKOFF)),
    cleanSteps: where(finite, where(grow, 0, clean), 0),
  };
}
