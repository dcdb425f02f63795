/**
 * The training graphs. Notation: K fused steps, B batch, T context, V vocab, P parameters.
 *
 * train_step: one ONNX Loop over K optimizer steps. Parameters and AdamW moments are loop-carried, so
 * they stay inside the runtime (on the GPU with CUDA) for all K steps; only the token windows
 * [K, B, T+1] and learning rates [K] come in, and updated state plus per-step loss and grad norm go out.
 * Each iteration: pick window k, forward, cross-entropy (its logit gradient written by hand, see
 * crossEntropyWithGradient), backward through the model (graph autodiff), then @cs336/optim's
 * global-norm clip and AdamW (handout Algorithm 1) graph fragments.
 *
 * Parameters are graph inputs under their course names (ORT training-artifact style); moments are
 * "optimizer.m.<name>" / "optimizer.v.<name>", updated tensors come out as "updated.<input name>".
 *
 * Mixed precision (precision 'fp16'): the carried state stays float32 (master weights and moments);
 * each iteration runs the model in float16 from casts of it, with dynamic loss scaling (loss-scale.ts).
 */
import {
  GraphBuilder, add, cast, div, exp, gather, gatherElements, gradients, logSoftmax, loop, mul, neg, not, reduceMean, scatterElements,
  shape as shapeOf, slice, squeeze, sub, unsqueeze, type Value,
} from '@cs336/graph';
import { transformerLm, transformerParameters, type KvCache, type ParameterSpec, type TransformerConfig } from '@cs336/nn';
import { adamwGraph, clipGradientScale, crossEntropyGraph } from '@cs336/optim';
import { lossScaleUpdate, skipUnlessFinite } from './loss-scale.js';
import { pack, planPacking, unpack } from './packed-state.js';

/** 'fp32': everything in float32. 'fp16': float16 matmuls and activations, float32 master state, dynamic loss scaling. */
export type Precision = 'fp32' | 'fp16';

/** AdamW and clipping hyperparameters baked into the graph (the learning rate is a per-step input). */
export interface OptimizerSettings {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Max global gradient L2 norm; 0 disables clipping. */
  gradClip: number;
  /** fp16 only: clean (non-overflowing) steps after which the loss scale doubles. */
  lossScaleWindow?: number;
}

export interface TrainStepShape {
  model: TransformerConfig;
  /** B. */
  batchSize: number;
  /** T, at most model.contextLength. */
  contextLength: number;
  /** Default 'fp32'. */
  precision?: Precision;
}

export const STEP_INPUT = 'step';
export const TOKENS_INPUT = 'tokens';
export const LEARNING_RATES_INPUT = 'learning_rates';
export const LOSSES_OUTPUT = 'losses';
export const GRAD_NORMS_OUTPUT = 'grad_norms';
/** fp16 train_step only: the loss scale S (float32 scalar) and the clean steps since it last changed (int64 scalar). */
export const LOSS_SCALE_INPUT = 'loss_scale';
export const CLEAN_STEPS_INPUT = 'clean_steps';
/** fp16 train_step only: per step, the loss scale it used [K] and whether it was skipped [K] (bool). */
export const LOSS_SCALES_OUTPUT = 'loss_scales';
export const SKIPPED_OUTPUT = 'skipped';
export const LOSS_OUTPUT = 'loss';
export const IDS_INPUT = 'ids';
export const LAST_POSITION_INPUT = 'last_position';
export const LOGITS_OUTPUT = 'logits';
export const POSITION_INPUT = 'position';
/** KV-cache tensors of layer i, [1, h, T, dk]: `past.<i>.k` going into a decode step, `present.<i>.k` coming out. */
export const kvName = (which: 'past' | 'present', layer: number, part: 'k' | 'v'): string => `${which}.${layer}.${part}`;

export const momentName = (which: 'm' | 'v', parameter: string): string => `optimizer.${which}.${parameter}`;
export const updatedName = (input: string): string => `updated.${input}`;

/** Splits windows [B, T+1] into inputs [B, T] and targets [B, T] (the same tokens shifted by one). */
function splitWindow(window: Value, contextLength: number): { inputs: Value; targets: Value } {
  return { inputs: slice(window, [0], [contextLength], [1]), targets: slice(window, [1], [contextLength + 1], [1]) };
}

function declareParameters(g: GraphBuilder, specs: readonly ParameterSpec[]): Record<string, Value> {
  return Object.fromEntries(specs.map((spec) => [spec.name, g.parameter(spec.name, 'float32', spec.shape)]));
}

/** eval: parameters + windows [B, T+1] → mean loss. */
export function buildEvalGraph(shape: TrainStepShape): GraphBuilder {
  const g = new GraphBuilder('eval');
  const weights = declareParameters(g, transformerParameters(shape.model));
  const windows = g.input(TOKENS_INPUT, 'int64', [shape.batchSize, shape.contextLength + 1]);
  const { inputs, targets } = splitWindow(windows, shape.contextLength);
  g.output(crossEntropyGraph(transformerLm(inputs, weights, shape.model), targets), LOSS_OUTPUT);
  return g;
}

/**
 * infer: parameters + ids [1, Tmax] + last_position → logits [1, V] at that position. The ids are padded
 * to the model's full context: attention is causal, so positions after `last_position` cannot change
 * its logits, and one fixed shape serves every prompt length.
 */
export function buildInferGraph(model: TransformerConfig): GraphBuilder {
  const g = new GraphBuilder('infer');
  const weights = declareParameters(g, transformerParameters(model));
  const ids = g.input(IDS_INPUT, 'int64', [1, model.contextLength]);
  const last = g.input(LAST_POSITION_INPUT, 'int64', []);
  g.output(transformerLm(ids, weights, model, { lastPosition: last }), LOGITS_OUTPUT); // [1, V]
  return g;
}

/**
 * prefill: parameters + ids [1, T] (any T from 1 to the context) + last_position (T − 1) → logits [1, V]
 * at the last position, and each layer's keys and values `present.<i>.k|v` [1, h, T, dk] for the
 * decode steps that follow. Unlike infer, nothing is padded: it costs what the prompt costs.
 */
export function buildPrefillGraph(model: TransformerConfig): GraphBuilder {
  const g = new GraphBuilder('prefill');
  const weights = declareParameters(g, transformerParameters(model));
  const ids = g.input(IDS_INPUT, 'int64', [1, 'T']);
  const last = g.input(LAST_POSITION_INPUT, 'int64', []);
  const cache: KvCache = { present: [] };
  g.output(transformerLm(ids, weights, model, { kvCache: cache, lastPosition: last }), LOGITS_OUTPUT); // [1, V]
  outputPresents(g, cache);
  return g;
}

/**
 * decode_step: parameters + one new id [1, 1] at `position` [1] + each layer's cached keys and values
 * `past.<i>.k|v` [1, h, P, dk] (P = position) → logits [1, V] for the token after it, and the cache
 * extended by it, `present.<i>.k|v` [1, h, P + 1, dk]. Each generated token costs one position's work
 * instead of a whole window's.
 */
export function buildDecodeStepGraph(model: TransformerConfig): GraphBuilder {
  const g = new GraphBuilder('decode_step');
  const weights = declareParameters(g, transformerParameters(model));
  const id = g.input(IDS_INPUT, 'int64', [1, 1]);
  const position = g.input(POSITION_INPUT, 'int64', [1]);
  const headSize = model.dModel / model.numHeads;
  const past = Array.from({ length: model.numLayers }, (_, i) => ({
    k: g.input(kvName('past', i, 'k'), 'float32', [1, model.numHeads, 'P', headSize]),
    v: g.input(kvName('past', i, 'v'), 'float32', [1, model.numHeads, 'P', headSize]),
  }));
  const cache: KvCache = { past, position, present: [] };
  const logits = transformerLm(id, weights, model, { kvCache: cache }); // [1, 1, V]
  g.output(squeeze(logits, [1]), LOGITS_OUTPUT); // [1, V]
  outputPresents(g, cache);
  return g;
}

function outputPresents(g: GraphBuilder, cache: KvCache): void {
  cache.present.forEach((kv, i) => {
    g.output(kv.k, kvName('present', i, 'k'));
    g.output(kv.v, kvName('present', i, 'v'));
  });
}

/**
 * Mean cross-entropy and its gradient with respect to the logits, written out by hand:
 *   loss = −mean log softmax(o)[target],   ∂loss/∂o = (softmax(o) − onehot(target)) / N   (N = B·T).
 * The [B, T, V] logits are the largest tensors in the step; autodiff through LogSoftmax + GatherElements
 * costs about eight full passes over them (zeros, scatter, exp, mul, reduce, sub...), this about five
 * (log-softmax, shift, exp, copy-and-scatter). The loss is read from LogSoftmax, not log(softmax): a
 * target probability that underflows to 0 in float32 would otherwise give an infinite loss. The
 * 1/N scale rides inside the exponent: exp(log p − log N) = p/N. The gradient seeds `gradients(logits, …)`.
 */
export function crossEntropyWithGradient(logits: Value, targets: Value): { loss: Value; logitsGrad: Value } {
  const [B, T] = targets.shape;
  if (typeof B !== 'number' || typeof T !== 'number') throw new Error(`crossEntropyWithGradient: targets need a static [B, T] shape, got [${targets.shape.join(', ')}]`);
  const n = B * T;
  const logProbabilities = logSoftmax(logits, -1); // [B, T, V]
  const index = unsqueeze(targets, [-1]); // [B, T, 1]
  const loss = neg(reduceMean(gatherElements(logProbabilities, index, -1), undefined, false));
  const scaled = exp(sub(logProbabilities, Math.log(n))); // softmax / N
  const logitsGrad = scatterElements(scaled, index, sub(gatherElements(scaled, index, -1), 1 / n), -1);
  return { loss, logitsGrad };
}

/**
 * Forward, loss and backward of one batch of windows [B, T+1]: the mean loss (float32) and the gradient
 * of lossScale · loss with respect to each parameter, in the parameters' dtype. The gradients flow
 * back through the model's Casts, so with fp16 they are computed in float16 and widened to float32
 * where each weight was cast; lossScale (a float32 scalar) keeps their small values above float16's
 * underflow. Dropout uses seed 0.
 */
export function lossAndGradients(shape: TrainStepShape, parameters: readonly Value[], window: Value, lossScale?: Value): { loss: Value; grads: Value[] } {
  const specs = transformerParameters(shape.model);
  const weights = Object.fromEntries(specs.map((spec, i) => [spec.name, parameters[i]!]));
  const { inputs, targets } = splitWindow(window, shape.contextLength);
  const computeDtype = shape.precision === 'fp16' ? 'float16' : undefined;
  const logits = transformerLm(inputs, weights, shape.model, { training: true, seed: 0, ...(computeDtype ? { computeDtype } : {}) }); // float32
  const { loss, logitsGrad } = window.graph.withScope('loss', () => crossEntropyWithGradient(logits, targets));
  return { loss, grads: gradients(logits, [...parameters], lossScale ? mul(logitsGrad, lossScale) : logitsGrad) };
}

/**
 * train_step: inputs are every parameter, its two moments, `step` (int64: AdamW updates applied before
 * this run, so the first update's t is step + 1), `tokens` int64 [K, B, T+1] and `learning_rates`
 * float32 [K] (K symbolic: any run length works); outputs are the updated tensors plus `losses` [K]
 * and `grad_norms` [K].
 *
 * fp16 adds `loss_scale` and `clean_steps` to the inputs, and `updated.step` (applied updates: a skipped
 * step does not advance AdamW's t), `updated.loss_scale`, `updated.clean_steps`, `loss_scales` [K] and
 * `skipped` [K] to the outputs. A skipped step's grad norm is the non-finite value that skipped it.
 */
export function buildTrainStepGraph(shape: TrainStepShape, settings: OptimizerSettings): GraphBuilder {
  const g = new GraphBuilder('train_step');
  const specs = transformerParameters(shape.model);
  const parameters = specs.map((spec) => g.parameter(spec.name, 'float32', spec.shape));
  const ms = specs.map((spec) => g.input(momentName('m', spec.name), 'float32', spec.shape));
  const vs = specs.map((spec) => g.input(momentName('v', spec.name), 'float32', spec.shape));
  const step = g.input(STEP_INPUT, 'int64', []);
  const mixed = shape.precision === 'fp16';
  const scaling = mixed ? [g.input(LOSS_SCALE_INPUT, 'float32', []), g.input(CLEAN_STEPS_INPUT, 'int64', []), step] : [];
  const tokens = g.input(TOKENS_INPUT, 'int64', ['K', shape.batchSize, shape.contextLength + 1]);
  const learningRates = g.input(LEARNING_RATES_INPUT, 'float32', ['K']);
  const stepCount = squeeze(shapeOf(tokens, 0, 1), [0]); // K, read from the tokens fed
  // The small tensors ride through the Loop packed into one flat vector each (see packed-state.ts).
  const plan = planPacking(specs.map((spec) => spec.shape));
  const Q = plan.separate.length + (plan.packed.length > 0 ? 1 : 0);
  const window = mixed ? lossScaleWindow(settings) : 0;
  const maxNorm = settings.gradClip > 0 ? settings.gradClip : Infinity; // 0 = no clipping; the norm is still reported

  const result = loop(g, {
    tripCount: stepCount,
    carried: [...pack(plan, parameters), ...pack(plan, ms), ...pack(plan, vs), ...scaling],
    body: (body, k, carried) => {
      const state = { params: carried.slice(0, Q), m: carried.slice(Q, 2 * Q), v: carried.slice(2 * Q, 3 * Q) };
      const [lossScale, cleanSteps, applied] = carried.slice(3 * Q);
      const { loss, grads: unpacked } = lossAndGradients(shape, unpack(plan, state.params), gather(tokens, k, 0), lossScale);
      const grads = pack(plan, unpacked);
      // AdamW applies the clip factor (and 1/S under fp16) in its own scalars, which saves a pass over every gradient.
      const adamw = (gradScale: Value, t: Value) => body.withScope('adamw', () => adamwGraph(
        state, grads, t, gather(learningRates, k, 0),
        { lr: 0, beta1: settings.beta1, beta2: settings.beta2, eps: settings.eps, weightDecay: settings.weightDecay },
        gradScale,
      ));
      if (!lossScale || !cleanSteps || !applied) {
        const clipped = body.withScope('clip', () => clipGradientScale(grads, maxNorm));
        const next = adamw(clipped.scale, add(add(step, k), 1)); // AdamW's t counts from 1
        return { carried: [...next.params, ...next.m, ...next.v], scanOutputs: [loss, clipped.norm] };
      }
      // The gradients are S·g: clip against S·maxNorm and unscale inside AdamW's gradient scale (clipping's
      // ε = 1e-6 then meets S·norm, in effect ε/S: immaterial against norms of order 1).
      const clipped = body.withScope('clip', () => clipGradientScale(grads, maxNorm === Infinity ? Infinity : mul(lossScale, maxNorm)));
      const norm = div(clipped.norm, lossScale);
      const next = adamw(div(clipped.scale, lossScale), add(applied, 1));
      const guarded = body.withScope('loss_scale', () => {
        const kept = skipUnlessFinite(clipped.norm, state, next);
        const update = lossScaleUpdate(kept.finite, lossScale, cleanSteps, window);
        return { kept, update, applied: add(applied, cast(kept.finite, 'int64')) };
      });
      const { kept, update } = guarded;
      return {
        carried: [...kept.state.params, ...kept.state.m, ...kept.state.v, update.scale, update.cleanSteps, guarded.applied],
        scanOutputs: [loss, norm, lossScale, not(kept.finite)],
      };
    },
  });
  const updated = [0, 1, 2].flatMap((i) => unpack(plan, result.carried.slice(i * Q, (i + 1) * Q)));
  const inputNames = [...parameters, ...ms, ...vs].map((value) => value.name);
  updated.forEach((value, i) => g.output(value, updatedName(inputNames[i]!)));
  g.output(result.scanOutputs[0]!, LOSSES_OUTPUT);
  g.output(result.scanOutputs[1]!, GRAD_NORMS_OUTPUT);
  if (mixed) {
    const [scale, clean, applied] = result.carried.slice(3 * Q);
    g.output(scale!, updatedName(LOSS_SCALE_INPUT));
    g.output(clean!, updatedName(CLEAN_STEPS_INPUT));
    g.output(applied!, updatedName(STEP_INPUT));
    g.output(result.scanOutputs[2]!, LOSS_SCALES_OUTPUT);
    g.output(result.scanOutputs[3]!, SKIPPED_OUTPUT);
  }
  return g;
}

function lossScaleWindow(settings: OptimizerSettings): number {
  const window = settings.lossScaleWindow;
  if (window === undefined || !Number.isSafeInteger(window) || window < 1) {
    throw new Error(`buildTrainStepGraph: fp16 needs lossScaleWindow, a positive integer (steps between loss-scale doublings), got ${window}`);
  }
  return window;
}
