/**
 * The Transformer LM's parameters, named exactly like the course's PyTorch state dict so fixtures and
 * checkpoints load by name, and a seedable initializer.
 *
 * Initialization (GPT-2 style, documented here because the handout leaves it open):
 *  - every Linear and Embedding weight ~ N(0, 0.02²);
 *  - the projections that write into the residual stream (attn.output_proj, ffn.w2) use 0.02/sqrt(2·numLayers),
 *    so the residual stream's variance does not grow with depth;
 *  - RMSNorm gains start at 1.
 * Draws come from a seeded generator (mulberry32 + Box–Muller) in the order of `transformerParameters`, so
 * the same seed and config always give the same weights.
 */
import { resolveTransformerConfig, type TransformerConfig } from './transformer-config.js';

export type ParameterInit = { kind: 'normal'; std: number } | { kind: 'ones' };

export interface ParameterSpec {
  /** State-dict key, e.g. layers.0.attn.q_proj.weight. */
  name: string;
  shape: readonly number[];
  init: ParameterInit;
}

export type WeightArray = Float32Array | Float64Array;
export type Weights = Record<string, WeightArray>;

const INIT_STD = 0.02;

/** The parameters of one Transformer block, keys relative to the block (attn.q_proj.weight, ...). */
export function blockParameters(config: TransformerConfig): ParameterSpec[] {
  const { dModel, dFf, numLayers } = config;
  const normal: ParameterInit = { kind: 'normal', std: INIT_STD };
  const residual: ParameterInit = { kind: 'normal', std: INIT_STD / Math.sqrt(2 * numLayers) };
  const specs: ParameterSpec[] = [
    { name: 'attn.q_proj.weight', shape: [dModel, dModel], init: normal },
    { name: 'attn.k_proj.weight', shape: [dModel, dModel], init: normal },
    { name: 'attn.v_proj.weight', shape: [dModel, dModel], init: normal },
    { name: 'attn.output_proj.weight', shape: [dModel, dModel], init: residual },
    { name: 'ffn.w1.weight', shape: [dFf, dModel], init: normal },
    { name: 'ffn.w2.weight', shape: [dModel, dFf], init: residual },
  ];
  // norm 'none' has no gains; the other placements keep ln1 (attention side) and ln2 (FFN side).
  if (config.norm !== 'none') {
    specs.splice(4, 0, { name: 'ln1.weight', shape: [dModel], init: { kind: 'ones' } });
    specs.push({ name: 'ln2.weight', shape: [dModel], init: { kind: 'ones' } });
  }
  return specs;
}

/** Every parameter of the LM in state-dict order. With tieEmbeddings there is no lm_head.weight. */
export function transformerParameters(config: TransformerConfig): ParameterSpec[] {
  const { vocabSize, contextLength, dModel, numLayers } = config;
  const specs: ParameterSpec[] = [
    { name: 'token_embeddings.weight', shape: [vocabSize, dModel], init: { kind: 'normal', std: INIT_STD } },
    { name: 'position_embeddings.weight', shape: [contextLength, dModel], init: { kind: 'normal', std: INIT_STD } },
  ];
  for (let i = 0; i < numLayers; i++) {
    for (const spec of blockParameters(config)) specs.push({ ...spec, name: `layers.${i}.${spec.name}` });
  }
  if (config.norm !== 'none') specs.push({ name: 'ln_final.weight', shape: [dModel], init: { kind: 'ones' } });
  if (!config.tieEmbeddings) specs.push({ name: 'lm_head.weight', shape: [vocabSize, dModel], init: { kind: 'normal', std: INIT_STD } });
  return specs;
}

export function parameterCount(specs: readonly ParameterSpec[]): number {
  return specs.reduce((total, spec) => total + spec.shape.reduce((a, b) => a * b, 1), 0);
}

export interface InitOptions {
  seed?: number;
  dtype?: 'float32' | 'float64';
}

/** Fresh weights for `config`, keyed by state-dict name (see the header for the scheme). */
export function initParameters(config: Partial<TransformerConfig>, options: InitOptions = {}): Weights {
  const resolved = resolveTransformerConfig(config);
  const { seed = 0, dtype = 'float32' } = options;
  const normal = seededNormal(seed);
  const weights: Weights = {};
  for (const spec of transformerParameters(resolved)) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const data = dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
    const init = spec.init;
    if (init.kind === 'ones') data.fill(1);
    else for (let i = 0; i < size; i++) data[i] = normal() * init.std;
    weights[spec.name] = data;
  }
  return weights;
}

/**
 * Checks that `weights` holds every parameter of `specs` with the right element count, naming the first
 * missing or misshapen one. `shapes` (optional) gives declared shapes to compare as well.
 */
export function checkWeights(
  what: string,
  specs: readonly ParameterSpec[],
  weights: Readonly<Record<string, { length: number } | undefined>>,
  shapes?: Readonly<Record<string, readonly number[] | undefined>>,
): void {
  for (const spec of specs) {
    const data = weights[spec.name];
    const expected = spec.shape.reduce((a, b) => a * b, 1);
    if (!data) {
      throw new Error(`${what}: missing weight '${spec.name}' (shape [${spec.shape.join(', ')}]); pass it in the weights record`);
    }
    const declared = shapes?.[spec.name];
    if (declared && (declared.length !== spec.shape.length || declared.some((d, i) => d !== spec.shape[i]))) {
      throw new Error(`${what}: weight '${spec.name}' has shape [${declared.join(', ')}] but the config needs [${spec.shape.join(', ')}]`);
    }
    if (data.length !== expected) {
      throw new Error(
        `${what}: weight '${spec.name}' has ${data.length} elements but the config needs shape [${spec.shape.join(', ')}] (${expected} elements)`,
      );
    }
  }
}

function seededNormal(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}
