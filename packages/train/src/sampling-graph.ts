/**
 * generate()'s sampling as graph ops, for the decode loop: the same definition as the host's
 * nextTokenDistribution + sample, step by step, in float64, so that both pick the same token.
 *
 *   greedy (temperature 0)  ArgMax, the first index on ties, as the host's strict `>` scan.
 *   sampled                 e = softmaxExp((l − max) / T), p = e / Σe; the top-p nucleus of a descending sort
 *                           (ties by id, as TopK orders them), renormalized by its mass; the first id
 *                           whose running sum in id order passes u, else the last kept id.
 *
 * Every sum is a CumSum, which adds left to right as the host's loops do (ReduceSum may add in another
 * order and round differently); every other step is a single IEEE operation (−, ×, ÷, floor, compare)
 * on both sides. Exp is the exception that was fixed: ORT's Exp and Math.exp disagree in the last bit
 * now and then, and a sample whose uniform fell on that boundary moved (sampling-graph.test.ts caught
 * it), so both sides use softmax-exp.ts's exp made of such operations. The result: the same ids, bit for bit.
 */
import {
  add, argMax, cast, constantOfShape, cumSum, div, equal, floor, gather, gatherElements, greater, hostTensor, int64s, less, max, min, mul, neg, not, reduceMax,
  reduceSum, scatterElements, shape, squeeze, sub, topK, where, type Value,
} from '@cs336/graph';
import { EXP_COEFFICIENTS, LN2_HI, LN2_LO, LOG2E, NEGATIVE_POWERS_OF_TWO, SOFTMAX_EXP_MIN } from './softmax-exp.js';

// ArgMax over a bool mask goes through float32, not int32: the CUDA provider's ArgMax takes floats only,
// and a CPU fallback inside the Loop body would copy the mask to the host every step.

/** Temperature and top-p as generate() takes them; they become constants of the graph. */
export interface SamplingSettings {
  temperature: number;
  topP: number;
}

/** u·2^53 (an int64 in [0, 2^53)): Random.nextFloat's 53 bits, fed without a float64 input. */
export const UNIFORM_SCALE = 2 ** 53;

export interface SampledToken {
  /** The chosen id, int64 [1]. */
  id: Value;
  /** bool scalar: the largest logit was finite (the host throws otherwise; the loop reports it). */
  finite?: Value;
}

/** Picks the next token from logits [1, V] (float32) with uniform u53 (int64 scalar, u·2^53). */
export function sampleToken(logits: Value, u53: Value, settings: SamplingSettings): SampledToken {
  const V = logits.shape[1];
  if (logits.shape.length !== 2 || logits.shape[0] !== 1 || typeof V !== 'number') throw new Error(`sampleToken: logits must be [1, V] with a static V, got [${logits.shape.join(', ')}]`);
  if (settings.temperature === 0) return { id: argMax(logits, -1, false) };
  const g = logits.graph;
  const l = cast(logits, 'float64');
  const largest = reduceMax(l, [-1], true); // [1, 1]
  const finite = equal(squeeze(sub(largest, largest), [0, 1]), 0); // largest − largest is NaN for ±∞ and NaN
  const e = softmaxExpGraph(div(sub(l, largest), settings.temperature));
  const p = div(e, lastAlong(cumSum(e, -1), V)); // softmax, normalized by the left-to-right total
  let kept = p;
  if (settings.topP < 1) {
    // As on the host, only probabilities ≥ (1 − topP)/V can be in the nucleus (all the others hold less than
    // 1 − topP together), so TopK sorts just those: the same values in the same order, hence the same running
    // sums. The host sorts everything when rounding keeps those sums under topP; that needs a margin of
    // (1 − topP)/V to vanish under rounding of order V·2^−53, so only a topP this close to 1 sorts all V here.
    const sortAll = 1 - settings.topP < 1e3 * V * V * 2 ** -53;
    const k = sortAll ? V : squeeze(reduceSum(cast(not(less(p, (1 - settings.topP) / V)), 'int64')), [0]); // [1]
    const { values, indices } = topK(p, k); // descending, ties by id
    const mass = cumSum(values, -1);
    const reached = not(less(mass, settings.topP)); // mass ≥ topP
    const rank = sub(cumSum(constantOfShape(shape(values), 1, 'int64'), -1), 1); // 0, 1, …, k − 1
    // The nucleus ends at the first rank whose mass reaches topP, or keeps every sorted one when rounding never gets there.
    const cut = where(greater(reduceMax(cast(reached, 'float32'), [-1], true), 0), argMax(cast(reached, 'float32'), -1, true), reduceMax(rank, [-1], true));
    const renormalized = where(greater(rank, cut), 0, div(values, gatherElements(mass, cut, -1)));
    kept = scatterElements(constantOfShape(int64s(g, [1, V]), 0, 'float64'), indices, renormalized, -1); // back to id order
  }
  const u = div(cast(u53, 'float64'), UNIFORM_SCALE);
  const passed = less(u, cumSum(kept, -1)); // [1, V]
  const lastKept = argMax(cast(greater(kept, 0), 'float32'), -1, false, true);
  const id = where(squeeze(lastAlong(passed, V), [0, 1]), argMax(cast(passed, 'float32'), -1, false), lastKept);
  return { id, finite };
}

/** softmax-exp.ts's softmaxExp, node for operation. */
function softmaxExpGraph(x: Value): Value {
  // NaN (non-finite logits, which the host refuses and the loop reports) must not index the table.
  const clamped = min(max(where(equal(x, x), x, 0), SOFTMAX_EXP_MIN), 0);
  const n = floor(add(mul(clamped, LOG2E), 0.5));
  const r = sub(sub(clamped, mul(n, LN2_HI)), mul(n, LN2_LO));
  let p = add(mul(r, EXP_COEFFICIENTS.at(-1)!), EXP_COEFFICIENTS.at(-2)!);
  for (let k = EXP_COEFFICIENTS.length - 3; k >= 0; k--) p = add(mul(p, r), EXP_COEFFICIENTS[k]!);
  const table = x.graph.constant(hostTensor('float64', [NEGATIVE_POWERS_OF_TWO.length], NEGATIVE_POWERS_OF_TWO));
  return mul(p, gather(table, cast(neg(n), 'int64'), 0));
}

/** x[:, V−1:V] of a [1, V] tensor, as [1, 1]. */
function lastAlong(x: Value, V: number): Value {
  return gather(x, x.graph.constant(hostTensor('int64', [1], [V - 1])), 1);
}
