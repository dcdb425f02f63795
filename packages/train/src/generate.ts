/**
 * Text generation, nanoGPT style: crop the ids to the model's context, take the last position's
 * logits, divide by the temperature, keep the smallest set of tokens whose probability reaches top-p
 * (nucleus sampling), sample, append, repeat. Temperature 0 means greedy (argmax).
 */
import { Random } from './random.js';

/** Anything that maps a sequence of ids to the logits for the next token. */
export interface NextTokenModel {
  readonly contextLength: number;
  readonly vocabSize: number;
  /** Logits [vocabSize] for the token after `ids` (ids.length ≤ contextLength). */
  nextTokenLogits(ids: readonly number[]): Promise<Float32Array | Float64Array>;
}

export interface GenerateOptions {
  maxNewTokens: number;
  /** Softmax temperature; 0 = always the most likely token. */
  temperature: number;
  /** Nucleus sampling threshold in (0, 1]; 1 keeps every token. */
  topP: number;
  seed: number;
  /** Stop after emitting this id (it is included in the output). */
  stopToken?: number;
  /** Called with each new id as it is chosen (for streaming output). */
  onToken?: (id: number) => void;
}

export const DEFAULT_GENERATE_OPTIONS: Readonly<GenerateOptions> = Object.freeze({ maxNewTokens: 256, temperature: 1, topP: 1, seed: 0 });

export function resolveGenerateOptions(partial: Partial<GenerateOptions> = {}): GenerateOptions {
  const options = { ...DEFAULT_GENERATE_OPTIONS, ...partial };
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
  for (let i = 0; i < n; i++) total += probabilities[i] = Math.exp((logits[i]! - max) / temperature);
  for (let i = 0; i < n; i++) probabilities[i]! /= total;
  if (topP < 1) {
    // Most likely first; ties broken by id so the nucleus is deterministic.
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => probabilities[b]! - probabilities[a]! || a - b);
    let kept = 0;
    let cut = n;
    for (let rank = 0; rank < n; rank++) {
      kept += probabilities[order[rank]!]!;
      if (kept >= topP) { cut = rank + 1; break; }
    }
    for (let rank = cut; rank < n; rank++) probabilities[order[rank]!] = 0;
    for (let i = 0; i < n; i++) probabilities[i]! /= kept;
  }
  return probabilities;
}

function sample(probabilities: Float64Array, random: Random): number {
  const u = random.nextFloat();
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

/** Extends `promptIds` by up to maxNewTokens ids; returns only the new ids. */
export async function generate(model: NextTokenModel, promptIds: readonly number[], partial: Partial<GenerateOptions> = {}): Promise<number[]> {
  const options = resolveGenerateOptions(partial);
  if (promptIds.length === 0) throw new Error('generate: the prompt is empty; give at least one token id (e.g. the end-of-text token)');
  for (const id of promptIds) {
    if (!Number.isInteger(id) || id < 0 || id >= model.vocabSize) throw new Error(`generate: prompt id ${id} is outside the vocabulary [0, ${model.vocabSize})`);
  }
  const random = Random.seeded(options.seed);
  const ids = [...promptIds];
  const generated: number[] = [];
  for (let i = 0; i < options.maxNewTokens; i++) {
    const window = ids.slice(-model.contextLength);
    const logits = await model.nextTokenLogits(window);
    if (logits.length !== model.vocabSize) throw new Error(`generate: the model returned ${logits.length} logits for a vocabulary of ${model.vocabSize}`);
    const id = sample(nextTokenDistribution(logits, options.temperature, options.topP), random);
    ids.push(id);
    generated.push(id);
    options.onToken?.(id);
    if (id === options.stopToken) break;
  }
  return generated;
}
