/**
 * When a run has diverged. A loss that is NaN or ±Inf has, obviously. Short of that, a run whose
 * smoothed train loss climbs well above where it started has too: an untrained LM sits near
 * ln(vocab) and every sane run goes down from there. The third test catches runs that learned and
 * then blew up, which can stay below their start: after warmup, the smoothed loss rising to
 * `aboveMinRatio` times its lowest value so far.
 *
 * Both tests read the smoothed loss (an exponential moving average), not the raw one: one noisy
 * batch (at batch size 1 it can be far above the mean), or a one-step spike the run recovers from,
 * is not divergence. On the cpu-scale sweep, lr 3e-2 and 1e-1 spiked to 13.7 and 10.5 for a step
 * during warmup (start 9.24) and were back near 7.4 by step 25; a raw-loss test stopped them there.
 */

export interface DivergenceRule {
  /** Diverged when the smoothed train loss exceeds the first step's loss by this much (nats); 0 disables. */
  aboveStart: number;
  /** Diverged when, after `afterStep`, the smoothed loss exceeds this × its running minimum; 0 disables. */
  aboveMinRatio: number;
  /** The running-minimum test starts after this step (past warmup, where the loss may still rise). */
  afterStep: number;
  /** Weight of the newest step in the smoothed loss. */
  smoothing: number;
}

export const DEFAULT_DIVERGENCE_RULE: Readonly<DivergenceRule> = Object.freeze({ aboveStart: 1, aboveMinRatio: 1.5, afterStep: 0, smoothing: 0.1 });

export interface DivergenceVerdict {
  step: number;
  reason: string;
}

/** Feeds steps in order; `check` returns a verdict on the first step that diverges. */
export class DivergenceDetector {
  private first: number | undefined;
  private smoothed: number | undefined;
  private lowest = Infinity;

  constructor(private readonly rule: DivergenceRule) {}

  check(step: number, loss: number): DivergenceVerdict | undefined {
    if (!Number.isFinite(loss)) return { step, reason: `loss is ${loss}` };
    this.first ??= loss;
    this.smoothed = this.smoothed === undefined ? loss : this.smoothed + this.rule.smoothing * (loss - this.smoothed);
    if (this.rule.aboveStart > 0 && this.smoothed > this.first + this.rule.aboveStart) {
      return { step, reason: `smoothed train loss ${this.smoothed.toPrecision(5)} (this step ${loss.toPrecision(5)}) is more than ${this.rule.aboveStart} above the first step's ${this.first.toPrecision(5)}` };
    }
    if (step > this.rule.afterStep) {
      if (this.rule.aboveMinRatio > 0 && this.smoothed > this.rule.aboveMinRatio * this.lowest) {
        return { step, reason: `smoothed train loss ${this.smoothed.toPrecision(5)} is over ${this.rule.aboveMinRatio}× its minimum ${this.lowest.toPrecision(5)}` };
      }
      this.lowest = Math.min(this.lowest, this.smoothed);
    }
    return undefined;
  }
}

/** The first diverging step of a whole loss series (what the report re-derives from metrics.jsonl). */
export function findDivergence(rule: DivergenceRule, steps: ReadonlyArray<{ step: number; trainLoss: number }>): DivergenceVerdict | undefined {
  const detector = new DivergenceDetector(rule);
  for (const { step, trainLoss } of steps) {
    const verdict = detector.check(step, trainLoss);
    if (verdict) return verdict;
  }
  return undefined;
}
