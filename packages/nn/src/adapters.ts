/**
 * The functional API, in the spirit of the course's test adapters: typed arrays and shapes in, a HostTensor
 * out, each call building the piece as a graph and running it through ONNX Runtime (CPU by default).
 * Weights are keyed like the course's state dicts; the dtype of the main input picks the graph's dtype
 * (float32 or float64) and weights are converted to it when they differ.
 */
import { GraphBuilder, Session, type DType, type HostTensor, type SessionOptions, type Value } from '@cs336/graph';
import { multiHeadSelfAttention, scaledDotProductAttention } from './attention.js';
import { feedForward } from './feed-forward.js';
import { gelu } from './gelu.js';
import { createParameterValues } from './parameter-values.js';
import { blockParameters, checkWeights, transformerParameters, type ParameterSpec, type WeightArray } from './parameters.js';
import { checkTokenIds } from './reference-transformer.js';
import { rmsNorm } from './rms-norm.js';
import { softmax } from './softmax.js';
import { transformerBlock } from './transformer-block.js';
import { resolveTransformerConfig, type TransformerConfig } from './transformer-config.js';
import { transformerLm } from './transformer-lm.js';

/** A float tensor given as data + dims (row-major). */
export interface FloatTensor {
  data: WeightArray;
  dims: readonly number[];
}

/** Integer ids given as data + dims. */
export interface IdTensor {
  data: BigInt64Array | Int32Array | ArrayLike<number>;
  dims: readonly number[];
}

export type WeightRecord = Readonly<Record<string, WeightArray>>;

export interface RunOptions {
  session?: SessionOptions;
}

function floatDType(data: WeightArray): 'float32' | 'float64' {
  return data instanceof Float64Array ? 'float64' : 'float32';
}

function toHost(what: string, name: string, tensor: FloatTensor, dtype: DType, rank?: number): HostTensor {
  const count = tensor.dims.reduce((a, b) => a * b, 1);
  if (count !== tensor.data.length) {
    throw new Error(`${what}: ${name} has ${tensor.data.length} elements but dims [${tensor.dims.join(', ')}] need ${count}`);
  }
  if (rank !== undefined && tensor.dims.length !== rank) {
    throw new Error(`${what}: ${name} must have rank ${rank}, got dims [${tensor.dims.join(', ')}]`);
  }
  const data = dtype === 'float64' ? Float64Array.from(tensor.data) : tensor.data instanceof Float32Array ? tensor.data : Float32Array.from(tensor.data);
  return { dtype, dims: [...tensor.dims], data };
}

/** Checks `weights` against `specs` (names and element counts) and converts them to feeds. */
function weightFeeds(what: string, specs: readonly ParameterSpec[], weights: WeightRecord, dtype: DType): Record<string, HostTensor> {
  checkWeights(what, specs, weights);
  const feeds: Record<string, HostTensor> = {};
  for (const spec of specs) feeds[spec.name] = toHost(what, `weight '${spec.name}'`, { data: weights[spec.name]!, dims: spec.shape }, dtype);
  return feeds;
}

async function runOne(g: GraphBuilder, output: Value, feeds: Record<string, HostTensor>, options: RunOptions): Promise<HostTensor> {
  g.output(output, 'output');
  const session = await Session.create(g, options.session);
  try {
    return (await session.run(feeds))['output']!;
  } finally {
    await session.release();
  }
}

/** FFN: inFeatures (..., dModel) with w1.weight (dFf, dModel), w2.weight (dModel, dFf). */
export async function runPositionwiseFeedforward(
  dims: { dModel: number; dFf: number }, weights: WeightRecord, inFeatures: FloatTensor, options: RunOptions = {},
): Promise<HostTensor> {
  const what = 'runPositionwiseFeedforward';
  const dtype = floatDType(inFeatures.data);
  const specs: ParameterSpec[] = [
    { name: 'w1.weight', shape: [dims.dFf, dims.dModel], init: { kind: 'ones' } },
    { name: 'w2.weight', shape: [dims.dModel, dims.dFf], init: { kind: 'ones' } },
  ];
  const g = new GraphBuilder('positionwise_feedforward');
  const p = createParameterValues(g, specs, dtype);
  const x = g.input('in_features', dtype, inFeatures.dims);
  return runOne(g, feedForward(x, p['w1.weight']!, p['w2.weight']!), { ...weightFeeds(what, specs, weights, dtype), in_features: toHost(what, 'inFeatures', inFeatures, dtype) }, options);
}

/** RMSNorm over the last axis with gain `weight` (dModel). */
export async function runRmsNorm(
  dims: { dModel: number; eps?: number }, weights: WeightRecord, inFeatures: FloatTensor, options: RunOptions = {},
): Promise<HostTensor> {
  const what = 'runRmsNorm';
  const dtype = floatDType(inFeatures.data);
  const specs: ParameterSpec[] = [{ name: 'weight', shape: [dims.dModel], init: { kind: 'ones' } }];
  const g = new GraphBuilder('rmsnorm');
  const gain = createParameterValues(g, specs, dtype)['weight']!;
  const x = g.input('in_features', dtype, inFeatures.dims);
  return runOne(g, rmsNorm(x, gain, dims.eps ?? 1e-5), { ...weightFeeds(what, specs, weights, dtype), in_features: toHost(what, 'inFeatures', inFeatures, dtype) }, options);
}

export async function runGelu(inFeatures: FloatTensor, options: RunOptions = {}): Promise<HostTensor> {
  const dtype = floatDType(inFeatures.data);
  const g = new GraphBuilder('gelu');
  const x = g.input('in_features', dtype, inFeatures.dims);
  return runOne(g, gelu(x), { in_features: toHost('runGelu', 'inFeatures', inFeatures, dtype) }, options);
}

export async function runSoftmax(inFeatures: FloatTensor, dim = -1, options: RunOptions = {}): Promise<HostTensor> {
  const dtype = floatDType(inFeatures.data);
  const g = new GraphBuilder('softmax');
  const x = g.input('in_features', dtype, inFeatures.dims);
  return runOne(g, softmax(x, dim), { in_features: toHost('runSoftmax', 'inFeatures', inFeatures, dtype) }, options);
}

/** q (..., Tq, dk), k (..., Tk, dk), v (..., Tk, dv); mask (Tq, Tk) or broadcastable, true/1 = masked out. */
export async function runScaledDotProductAttention(
  q: FloatTensor, k: FloatTensor, v: FloatTensor,
  mask?: { data: Uint8Array | ArrayLike<number | boolean>; dims: readonly number[] },
  options: RunOptions & { attnPdrop?: number; training?: boolean; seed?: number } = {},
): Promise<HostTensor> {
  const what = 'runScaledDotProductAttention';
  const dtype = floatDType(q.data);
  const g = new GraphBuilder('scaled_dot_product_attention');
  const [qv, kv, vv] = (['q', 'k', 'v'] as const).map((n, i) => g.input(n, dtype, [q, k, v][i]!.dims));
  const feeds: Record<string, HostTensor> = { q: toHost(what, 'q', q, dtype), k: toHost(what, 'k', k, dtype), v: toHost(what, 'v', v, dtype) };
  let maskValue: Value | undefined;
  if (mask) {
    maskValue = g.input('mask', 'bool', mask.dims);
    feeds['mask'] = { dtype: 'bool', dims: [...mask.dims], data: Uint8Array.from(Array.from(mask.data as ArrayLike<number | boolean>, (m) => (m ? 1 : 0))) };
  }
  return runOne(g, scaledDotProductAttention(qv!, kv!, vv!, maskValue, options), feeds, options);
}

/**
 * Causal MHA on inFeatures (B, T, dModel). Weights either as the block's q_proj/k_proj/v_proj/output_proj.weight
 * (dModel, dModel) or, like the course's MHA fixture, per head: {q,k,v}_heads.{h}.weight (dk, dModel) plus
 * output_proj.weight; per-head weights are concatenated in head order.
 */
export async function runMultiheadSelfAttention(
  dims: { dModel: number; numHeads: number; attnPdrop?: number }, weights: WeightRecord, inFeatures: FloatTensor, options: RunOptions = {},
): Promise<HostTensor> {
  const what = 'runMultiheadSelfAttention';
  const { dModel, numHeads } = dims;
  if (dModel % numHeads !== 0) throw new Error(`${what}: dModel (${dModel}) must be divisible by numHeads (${numHeads})`);
  const projections = 'q_heads.0.weight' in weights ? concatenateHeads(what, weights, numHeads, dModel) : weights;
  const dtype = floatDType(inFeatures.data);
  const specs: ParameterSpec[] = ['q_proj', 'k_proj', 'v_proj', 'output_proj'].map((n) => ({ name: `${n}.weight`, shape: [dModel, dModel], init: { kind: 'ones' } }));
  const g = new GraphBuilder('multihead_self_attention');
  const p = createParameterValues(g, specs, dtype);
  const x = g.input('in_features', dtype, inFeatures.dims);
  const y = multiHeadSelfAttention(x, { q: p['q_proj.weight']!, k: p['k_proj.weight']!, v: p['v_proj.weight']!, output: p['output_proj.weight']! }, numHeads);
  return runOne(g, y, { ...weightFeeds(what, specs, projections, dtype), in_features: toHost(what, 'inFeatures', inFeatures, dtype, 3) }, options);
}

function concatenateHeads(what: string, weights: WeightRecord, numHeads: number, dModel: number): WeightRecord {
  const dk = dModel / numHeads;
  const out: Record<string, WeightArray> = { 'output_proj.weight': weights['output_proj.weight']! };
  for (const p of ['q', 'k', 'v']) {
    const joined = new Float64Array(dModel * dModel);
    for (let h = 0; h < numHeads; h++) {
      const name = `${p}_heads.${h}.weight`;
      const head = weights[name];
      if (!head) throw new Error(`${what}: missing weight '${name}' (shape [${dk}, ${dModel}])`);
      if (head.length !== dk * dModel) throw new Error(`${what}: weight '${name}' has ${head.length} elements but needs shape [${dk}, ${dModel}]`);
      joined.set(head, h * dk * dModel);
    }
    out[`${p}_proj.weight`] = joined;
  }
  return out;
}

/** One block on inFeatures (B, T, dModel); weights keyed attn.q_proj.weight, ln1.weight, ffn.w1.weight, … */
export async function runTransformerBlock(
  config: Partial<TransformerConfig>, weights: WeightRecord, inFeatures: FloatTensor, options: RunOptions = {},
): Promise<HostTensor> {
  const what = 'runTransformerBlock';
  const c = resolveTransformerConfig({ numLayers: 1, ...config });
  const dtype = floatDType(inFeatures.data);
  const specs = blockParameters(c);
  const g = new GraphBuilder('transformer_block');
  const p = createParameterValues(g, specs, dtype);
  const x = g.input('in_features', dtype, inFeatures.dims);
  return runOne(g, transformerBlock(x, p, c), { ...weightFeeds(what, specs, weights, dtype), in_features: toHost(what, 'inFeatures', inFeatures, dtype, 3) }, options);
}

/** The LM on inIndices (B, T) → logits (B, T, V); dtype follows token_embeddings.weight. */
export async function runTransformerLm(
  config: Partial<TransformerConfig>, weights: WeightRecord, inIndices: IdTensor, options: RunOptions = {},
): Promise<HostTensor> {
  const what = 'runTransformerLm';
  const c = resolveTransformerConfig(config);
  const specs = transformerParameters(c);
  const embeddings = weights['token_embeddings.weight'];
  const dtype = embeddings ? floatDType(embeddings) : 'float32';
  const feeds = weightFeeds(what, specs, weights, dtype);
  if (inIndices.dims.length !== 2) throw new Error(`${what}: inIndices must be (batch, seqLen), got dims [${inIndices.dims.join(', ')}]`);
  const [batch, seqLen] = inIndices.dims as [number, number];
  checkTokenIds(what, c, inIndices.data, batch, seqLen);
  const g = new GraphBuilder('transformer_lm');
  const p = createParameterValues(g, specs, dtype);
  const ids = g.input('in_indices', 'int64', [batch, seqLen]);
  const idData = inIndices.data instanceof BigInt64Array ? inIndices.data : BigInt64Array.from(Array.from(inIndices.data as ArrayLike<number>, (i) => BigInt(i)));
  return runOne(g, transformerLm(ids, p, c), { ...feeds, in_indices: { dtype: 'int64', dims: [batch, seqLen], data: idData } }, options);
}
