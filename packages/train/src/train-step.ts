/**
 * The training graphs. Notation: K fused steps, B batch, T context, V vocab, P parameters.
 *
 * train_step: one ONNX Loop over K optimizer steps. Parameters and AdamW moments are loop-carried, so
 * they stay inside the runtime (on the GPU with CUDA) for all K steps; only the token windows
 * [K, B, T+1] and learning rates [K] come in, and updated state plus per-step loss and grad norm go out.
 * Each iteration: pick window k, forward, cross-entropy, backward (graph autodiff), global-norm clip,
 * AdamW (handout Algorithm 1, decay applied to the updated weights like @cs336/optim's adamwStep).
 *
 * Parameters are graph inputs under their course names (ORT training-artifact style); moments are
 * "optimizer.m.<name>" / "optimizer.v.<name>", updated tensors come out as "updated.<input name>".
 */
import {
  GraphBuilder, add, cast, div, gather, gatherElements, gradients, greater, logSoftmax, loop, mul, neg, pow,
  reduceMean, reduceSum, shape as shapeOf, slice, sqrt, squeeze, sub, sum, unsqueeze, where, type Value,
} from '@cs336/graph';
import { transformerLm, transformerParameters, type ParameterSpec, type TransformerConfig } from '@cs336/nn';

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

/** Course value of the ε added to the norm before dividing (clip_gradient in the handout). */
const CLIP_EPS = 1e-6;

export const STEP_INPUT = 'step';
export const TOKENS_INPUT = 'tokens';
export const LEARNING_RATES_INPUT = 'learning_rates';
export const LOSSES_OUTPUT = 'losses';
export const GRAD_NORMS_OUTPUT = 'grad_norms';
export const LOSS_OUTPUT = 'loss';
export const IDS_INPUT = 'ids';
export const LAST_POSITION_INPUT = 'last_position';
export const LOGITS_OUTPUT = 'logits';

export const momentName = (which: 'm' | 'v', parameter: string): string => `optimizer.${which}.${parameter}`;
export const updatedName = (input: string): string => `updated.${input}`;

/** Mean next-token cross-entropy: logits [B, T, V], targets [B, T] int64 → scalar. */
export function meanCrossEntropy(logits: Value, targets: Value): Value {
  const logProbabilities = logSoftmax(logits, -1);
  const picked = gatherElements(logProbabilities, unsqueeze(targets, [-1]), -1); // [B, T, 1]
  return neg(reduceMean(picked, undefined, false));
}

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
  g.output(meanCrossEntropy(transformerLm(inputs, weights, shape.model), targets), LOSS_OUTPUT);
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
  const logits = transformerLm(ids, weights, model); // [1, Tmax, V]
  g.output(gather(logits, last, 1), LOGITS_OUTPUT); // [1, V]
  return g;
}

/** Global L2 norm over all gradients and the clipped gradients (unchanged when the norm is within bounds). */
export function clipByGlobalNorm(grads: readonly Value[], maxNorm: number): { norm: Value; clipped: Value[] } {
  const norm = sqrt(sum(grads.map((grad) => reduceSum(mul(grad, grad), undefined, false))));
  if (maxNorm === 0) return { norm, clipped: [...grads] };
  const scale = where(greater(norm, maxNorm), div(maxNorm, add(norm, CLIP_EPS)), 1);
  return { norm, clipped: grads.map((grad) => mul(grad, scale)) };
}

/** One AdamW update at step t (float scalar, from 1) with learning rate lr (float scalar). */
export function adamwUpdate(parameter: Value, grad: Value, m: Value, v: Value, t: Value, lr: Value, settings: OptimizerSettings): { parameter: Value; m: Value; v: Value } {
  const { beta1, beta2, eps, weightDecay } = settings;
  const nextM = add(mul(m, beta1), mul(grad, 1 - beta1));
  const nextV = add(mul(v, beta2), mul(mul(grad, grad), 1 - beta2));
  // α_t = α · sqrt(1 − β2^t) / (1 − β1^t)
  const stepSize = div(mul(lr, sqrt(sub(1, pow(beta2, t)))), sub(1, pow(beta1, t)));
  const moved = sub(parameter, div(mul(stepSize, nextM), add(sqrt(nextV), eps)));
  const decayed = sub(moved, mul(mul(lr, weightDecay), moved));
  return { parameter: decayed, m: nextM, v: nextV };
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
  const P = specs.length;

  const result = loop(g, {
    tripCount: stepCount,
    carried: [...parameters, ...ms, ...vs],
    body: (_body, k, carried) => {
      const current = carried.slice(0, P);
      const weights = Object.fromEntries(specs.map((spec, i) => [spec.name, current[i]!]));
      const { inputs, targets } = splitWindow(gather(tokens, k, 0), shape.contextLength);
      const loss = meanCrossEntropy(transformerLm(inputs, weights, shape.model, { training: true, seed: 0 }), targets);
      const { norm, clipped } = clipByGlobalNorm(gradients(loss, current), settings.gradClip);
      const t = cast(add(add(step, k), 1), 'float32');
      const lr = gather(learningRates, k, 0);
      const next = current.map((parameter, i) => adamwUpdate(parameter, clipped[i]!, carried[P + i]!, carried[2 * P + i]!, t, lr, settings));
      return {
        carried: [...next.map((n) => n.parameter), ...next.map((n) => n.m), ...next.map((n) => n.v)],
        scanOutputs: [loss, norm],
      };
    },
  });
  const inputNames = [...parameters, ...ms, ...vs].map((value) => value.name);
  result.carried.forEach((value, i) => g.output(value, updatedName(inputNames[i]!)));
  g.output(result.scanOutputs[0]!, LOSSES_OUTPUT);
  g.output(result.scanOutputs[1]!, GRAD_NORMS_OUTPUT);
  return g;
}
