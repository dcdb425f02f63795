/**
 * Text generation, nanoGPT style: crop the ids to the model's context, take the last position's
 * logits, divide by the temperature, keep the smallest set of tokens whose probability reaches top-p
 * (nucleus sampling), sample, append, repeat. Temperature 0 means greedy (argmax).
 */
// The subpath, not the package: this file is also @cs336/train/generate, bundled for browsers, and
// @cs336/graph's main entry loads onnxruntime-node.
import { checkConfigFields } from '@cs336/graph/config-fields';
import { Random } from './random.js';
import { softmaxExp } from './softmax-exp.js';

/** Anything that maps a sequence of ids to the logits for the next token. */
export interface NextTokenModel {
  readonly contextLength: number;
  readonly vocabSize: number;
  /** Logits [vocabSize] for the token after `ids` (ids.length ≤ contextLength). */
  nextTokenLogits(ids: readonly number[]): Promise<Float32Array | Float64Array>;
  /**
   * Optional, for decode 'loop': extends `ids` (≤ contextLength, and ids.length − 1 + uniforms.length
   * ≤ contextLength) by uniforms.length tokens inside the model's runtime, choosing token j with
   * uniform uniforms[j] exactly as generate() chooses on the host (nextTokenDistribution, then the
   * first id whose running probability passes u). Stops early right after `stopToken`. Returns
   * undefined when it cannot continue from these ids (e.g. nothing cached for them): generate() then
   * takes a host step.
   */
  continueInRuntime?(ids: readonly number[], uniforms: Float64Array, sampling: RuntimeSampling): Promise<number[] | undefined>;
}

/** What continueInRuntime samples with. */
export interface RuntimeSampling {
  temperature: number;
  topP: number;
  stopToken?: number;
}

/**
 * How generate() runs a model that offers continueInRuntime: 'loop' (default) decodes up to
 * `decodeChunk` tokens per call inside the runtime, 'step' asks for one token's logits per call.
 * Both give the same ids for the same seed.
 */
export type DecodeMode = 'loop' | 'step';
export const DECODE_MODES: readonly DecodeMode[] = ['loop', 'step'];

export interface GenerateOptions {
  maxNewTokens: number;
  /** Softmax temperature; 0 = always the most likely token. */
  temperature: number;
  /** Nucleus sampling threshold in (0, 1]; 1 keeps every token. */
  topP: number;
  seed: number;
  /** Stop after emitting this id (it is included in the output). */
  stopToken?: number;
  /** Called with each new id as it is chosen (for streaming output; in 'loop' mode a chunk at a time). */
  onToken?: (id: number) => void;
  /** See DecodeMode; models without continueInRuntime always step. */
  decode: DecodeMode;
  /** Tokens per continueInRuntime call in 'loop' mode. */
  decodeChunk: number;
}

export const DEFAULT_GENERATE_OPTIONS: Readonly<GenerateOptions> = Object.freeze({ maxNewTokens: 256, temperature: 1, topP: 1, seed: 0, decode: 'loop', decodeChunk: 32 });

export function resolveGenerateOptions(partial: Partial<GenerateOptions> = {}): GenerateOptions {
  checkConfigFields('GenerateOptions', partial, {
    maxNewTokens: 'number', temperature: 'number', topP: 'number', seed: 'number', stopToken: 'number', onToken: 'function', decode: DECODE_MODES, decodeChunk: 'number',
  });
  const options = { ...DEFAULT_GENERATE_OPTIONS, ...partial };
  if (!Number.isSafeInteger(options.decodeChunk) || options.decodeChunk < 1) throw new Error(`decodeChunk must be a positive integer, got ${options.decodeChunk}`);
  if (!Number.isSafeInteger(options.maxNewTokens) || options.maxNewTokens < 0) throw new Error(`maxNewTokens must be a non-negative integer, got ${options.maxNewTokens}`);
  if (!(options.temperature >= 0) || !Number.isFinite(options.temperature)) throw new Error(`temperature must be ≥ 0, got ${options.temperature}`);
  if (!(options.topP > 0 && options.topP <= 1)) throw new Error(`topP must be in (0, 1], got ${options.topP}`);
  return options;
}

/** The distribution generate() samples from: softmax(logits / T) restricted to the top-p nucleus, renormalized. */
export function nextTokenDistribution(logits: ArrayLike<number>, temperature: number, topP: number): Float64Array {
  const n = logits.length;
  const probabilities = new Float64Array(n);
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < n; i++) if (logits[i]! > logits[best]!) best = i;
    probabilities[best] = 1;
    return probabilities;
  }
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[i]!);
  if (!Number.isFinite(max)) throw new Error(`the model produced non-finite logits (max ${max}); the checkpoint may be diverged`);
  let total = 0;
  // softmaxExp, not Math.exp: the decode loop's graph computes the very same bits (see softmax-exp.ts).
  for (let i = 0; i < n; i++) total += probabilities[i] = softmaxExp((logits[i]! - max) / temperature);
  for (let i = 0; i < n; i++) probabilities[i]! /= total;
  if (topP < 1) keepNucleus(probabilities, topP);
  return probabilities;
}

/**
 * Restricts `probabilities` to the top-p nucleus, renormalized: the most likely tokens (ties broken by
 * id) up to and including the first at which their total reaches topP; every token when rounding keeps
 * the total under topP. Sorting token ids with a comparator cost 2 ms a token at 10k ids and 13 ms at
 * 50k, more than a KV-cache decode step, so only the probabilities are sorted (a typed-array sort): the
 * cumulative sums are the same numbers in the same order, which gives the cut probability and how many
 * tokens tied at it are in.
 */
function keepNucleus(probabilities: Float64Array, topP: number): void {
  const n = probabilities.length;
  // Only probabilities ≥ (1 − topP) / n can matter: all the others together hold less than 1 − topP, so
  // the nucleus ends before them (unless rounding says otherwise: then every probability is sorted).
  const floor = (1 - topP) / n;
  for (const threshold of [floor, -Infinity]) {
    let count = 0;
    for (let i = 0; i < n; i++) if (probabilities[i]! >= threshold) count++;
    const sorted = new Float64Array(count);
    for (let i = 0, j = 0; i < n; i++) if (probabilities[i]! >= threshold) sorted[j++] = probabilities[i]!;
    sorted.sort(); // ascending
    let mass = 0;
    let cut = -1;
    for (let rank = count - 1; rank >= 0; rank--) {
      mass += sorted[rank]!;
      if (mass >= topP) { cut = rank; break; }
    }
    if (cut < 0 && threshold === floor) continue;
    const last = cut >= 0 ? sorted[cut]! : -Infinity; // the smallest probability kept (every one if none reached topP)
    let tiesKept = 0;
    for (let rank = cut; rank >= 0 && rank < count && sorted[rank] === last; rank++) tiesKept++;
    for (let i = 0; i < n; i++) {
      const p = probabilities[i]!;
      if (p > last) probabilities[i] = p / mass;
      else if (p === last && tiesKept > 0) {
        probabilities[i] = p / mass;
        tiesKept--;
      } else probabilities[i] = 0;
    }
    return;
  }
}

/** The first id whose running probability (in id order) passes u ∈ [0, 1): inverse-CDF sampling. */
export function pickToken(probabilities: Float64Array, u: number): number {
  let cumulative = 0;
  let last = 0;
  for (let i = 0; i < probabilities.length; i++) {
    if (probabilities[i]! === 0) continue;
    cumulative += probabilities[i]!;
    last = i;
    if (u < cumulative) return i;
  }
  return last; // u landed in the rounding gap at the very top
}

/**
 * Extends `promptIds` by up to maxNewTokens ids; returns only the new ids. One uniform draw per token
 * in either decode mode, so a seed gives the same ids both ways.
 */
export async function generate(model: NextTokenModel, promptIds: readonly number[], partial: Partial<GenerateOptions> = {}): Promise<number[]> {
  const options = resolveGenerateOptions(partial);
  if (promptIds.length === 0) throw new Error('generate: the prompt is empty; give at least one token id (e.g. the end-of-text token)');
  for (const id of promptIds) {
    if (!Number.isInteger(id) || id < 0 || id >= model.vocabSize) throw new Error(`generate: prompt id ${id} is outside the vocabulary [0, ${model.vocabSize})`);
  }
  let random = Random.seeded(options.seed);
  const ids = [...promptIds];
  const generated: number[] = [];
  const inRuntime = options.decode === 'loop' ? model.continueInRuntime?.bind(model) : undefined;
  const { temperature, topP, stopToken } = options;
  while (generated.length < options.maxNewTokens) {
    const window = ids.slice(-model.contextLength);
    if (inRuntime) {
      // As many tokens as fit before the context is full (the last window id is not cached yet).
      const count = Math.min(options.decodeChunk, options.maxNewTokens - generated.length, model.contextLength - window.length + 1);
      const saved = random.state();
      const uniforms = Float64Array.from({ length: count }, () => random.nextFloat());
      const chunk = await inRuntime(window, uniforms, { temperature, topP, ...(stopToken === undefined ? {} : { stopToken }) });
      if (chunk) {
        if (chunk.length === 0 || chunk.length > count || (chunk.length < count && chunk.at(-1) !== stopToken)) {
          throw new Error(`generate: continueInRuntime returned ${chunk.length} ids for ${count} uniforms${chunk.length < count ? ' without ending at the stop token' : ''}`);
        }
        for (const id of chunk) {
          ids.push(id);
          generated.push(id);
          options.onToken?.(id);
        }
        if (stopToken !== undefined && chunk.at(-1) === stopToken) break;
        continue;
      }
      random = Random.fromState(saved); // no draw was used: the host step below takes the first
    }
    const logits = await model.nextTokenLogits(window);
    if (logits.length !== model.vocabSize) throw new Error(`generate: the model returned ${logits.length} logits for a vocabulary of ${model.vocabSize}`);
    const id = pickToken(nextTokenDistribution(logits, options.temperature, options.topP), random.nextFloat());
    ids.push(id);
    generated.push(id);
    options.onToken?.(id);
    if (id === options.stopToken) break;
  }
  return generated;
}
