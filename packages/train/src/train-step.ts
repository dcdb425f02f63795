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
 */
import {
  GraphBuilder, add, exp, gather, gatherElements, gradients, logSoftmax, loop, neg, reduceMean, scatterElements, shape as shapeOf, slice,
  squeeze, sub, unsqueeze, type Value,
} from '@cs336/graph';
import { transformerLm, transformerParameters, type KvCache, type ParameterSpec, type TransformerConfig } from '@cs336/nn';
import { adamwGraph, clipGradientScale, crossEntropyGraph } from '@cs336/optim';
import { pack, planPacking, unpack } from './packed-state.js';

/** AdamW and clipping hyperparameters baked into the graph (the learning rate is a per-step input). */
export interface OptimizerSettings {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Max global gradient L2 norm; 0 disables clipping. */
  gradClip: number;
}

export interface TrainStepShape {
  model: TransformerConfig;
  /** B. */
  batchSize: number;
  /** T, at most model.contextLength. */
  contextLength: number;
}

export const STEP_INPUT = 'step';
export const TOKENS_INPUT = 'tokens';
export const LEARNING_RATES_INPUT = 'learning_rates';
export const LOSSES_OUTPUT = 'losses';
export const GRAD_NORMS_OUTPUT = 'grad_norms';
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
 * train_step: inputs are every parameter, its two moments, `step` (int64, steps done before this run),
 * `tokens` int64 [K, B, T+1] and `learning_rates` float32 [K] (K symbolic: any run length works);
 * outputs are the updated tensors plus `losses` [K] and `grad_norms` [K].
 */
export function buildTrainStepGraph(shape: TrainStepShape, settings: OptimizerSettings): GraphBuilder {
  const g = new GraphBuilder('train_step');
  const specs = transformerParameters(shape.model);
  const parameters = specs.map((spec) => g.parameter(spec.name, 'float32', spec.shape));
  const ms = specs.map((spec) => g.input(momentName('m', spec.name), 'float32', spec.shape));
  const vs = specs.map((spec) => g.input(momentName('v', spec.name), 'float32', spec.shape));
  const step = g.input(STEP_INPUT, 'int64', []);
  const tokens = g.input(TOKENS_INPUT, 'int64', ['K', shape.batchSize, shape.contextLength + 1]);
  const learningRates = g.input(LEARNING_RATES_INPUT, 'float32', ['K']);
  const stepCount = squeeze(shapeOf(tokens, 0, 1), [0]); // K, read from the tokens fed
  // The small tensors ride through the Loop packed into one flat vector each (see packed-state.ts).
  const plan = planPacking(specs.map((spec) => spec.shape));
  const Q = plan.separate.length + (plan.packed.length > 0 ? 1 : 0);

  const result = loop(g, {
    tripCount: stepCount,
    carried: [...pack(plan, parameters), ...pack(plan, ms), ...pack(plan, vs)],
    body: (body, k, carried) => {
      const current = unpack(plan, carried.slice(0, Q));
      const weights = Object.fromEntries(specs.map((spec, i) => [spec.name, current[i]!]));
      const { inputs, targets } = splitWindow(gather(tokens, k, 0), shape.contextLength);
      const logits = transformerLm(inputs, weights, shape.model, { training: true, seed: 0 });
      const { loss, logitsGrad } = body.withScope('loss', () => crossEntropyWithGradient(logits, targets));
      const grads = pack(plan, gradients(logits, current, logitsGrad));
      // gradClip 0 = no clipping; the norm is still reported. AdamW applies the clip factor in its own
      // scalars, which saves a pass over every gradient.
      const clipped = body.withScope('clip', () => clipGradientScale(grads, settings.gradClip > 0 ? settings.gradClip : Infinity));
      const next = body.withScope('adamw', () => adamwGraph(
        { params: carried.slice(0, Q), m: carried.slice(Q, 2 * Q), v: carried.slice(2 * Q) },
        grads,
        add(add(step, k), 1), // AdamW's t counts from 1
        gather(learningRates, k, 0),
        { lr: 0, beta1: settings.beta1, beta2: settings.beta2, eps: settings.eps, weightDecay: settings.weightDecay },
        clipped.scale,
      ));
      return { carried: [...next.params, ...next.m, ...next.v], scanOutputs: [loss, clipped.norm] };
    },
  });
  const updated = [0, 1, 2].flatMap((i) => unpack(plan, result.carried.slice(i * Q, (i + 1) * Q)));
  const inputNames = [...parameters, ...ms, ...vs].map((value) => value.name);
  updated.forEach((value, i) => g.output(value, updatedName(inputNames[i]!)));
  g.output(result.scanOutputs[0]!, LOSSES_OUTPUT);
  g.output(result.scanOutputs[1]!, GRAD_NORMS_OUTPUT);
  return g;
}
