/**
 * When a run has diverged. A loss that is NaN or ±Inf has, obviously. Short of that, a run whose
 * train loss climbs well above where it started has too: an untrained LM sits near ln(vocab) and
 * every sane run goes down from there. The third test catches runs that learned and then blew up,
 * which can stay below their start: after warmup, the smoothed loss rising to `aboveMinRatio` times
 * its lowest value so far. Smoothing (an exponential moving average) keeps one noisy batch, which at
 * batch size 1 can be far above the mean, from counting as divergence.
 */

export interface DivergenceRule {
  /** Diverged when a step's train loss exceeds the first step's by this much (nats); 0 disables. */
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
    if (this.rule.aboveStart > 0 && loss > this.first + this.rule.aboveStart) {
      return { step, reason: `train loss ${loss.toPrecision(5)} is more than ${this.rule.aboveStart} above the first step's ${this.first.toPrecision(5)}` };
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
