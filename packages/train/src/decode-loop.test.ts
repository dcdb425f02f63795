import { Session, type HostTensor } from '@cs336/graph';
import { initParameters, referenceTransformerLm, resolveTransformerConfig, transformerParameters, type TransformerConfig } from '@cs336/nn';
import { FINITE_OUTPUT, GENERATED_OUTPUT, STOP_TOKEN_INPUT, UNIFORMS_INPUT, buildDecodeLoopGraph } from './decode-loop.js';
import { generate, type GenerateOptions } from './generate.js';
import { UNIFORM_SCALE } from './sampling-graph.js';
import { IDS_INPUT, LAST_POSITION_INPUT, LOGITS_OUTPUT, POSITION_INPUT, buildPrefillGraph, kvName } from './train-step.js';
import { InferenceModel, type InferenceWeights } from './training-session.js';

// The loop mode's reference is the step mode: the same InferenceModel asked for one token's logits at a
// time and sampled on the host by generate()'s own code.
const config: TransformerConfig = resolveTransformerConfig({ vocabSize: 97, contextLength: 24, dModel: 32, numLayers: 2, numHeads: 4, dFf: 64 });

function parameters(seed: number, scale: number): Map<string, Float32Array> {
  // Scaled-up weights: peaked logits (greedy chains that vary) or, at a small scale, flat ones (wide nuclei).
  const weights = initParameters(config, { seed });
  return new Map(Object.entries(weights).map(([name, data]) => [name, Float32Array.from(data, (x) => (name.includes('ln') ? x : scale * x))]));
}

async function bothModes(model: InferenceModel, prompt: number[], options: Partial<GenerateOptions>): Promise<{ loop: number[]; step: number[] }> {
  const step = await generate(model, prompt, { ...options, decode: 'step' });
  const streamed: number[] = [];
  const loop = await generate(model, prompt, { ...options, decode: 'loop', onToken: (id) => streamed.push(id) });
  expect(streamed).toEqual(loop);
  return { loop, step };
}

describe.each<[InferenceWeights, 'grow' | 'fixed']>([['baked', 'grow'], ['fed', 'grow'], ['baked', 'fixed']])('decode loop, weights %s, cache %s', (weights, decodeCache) => {
  let model: InferenceModel;
  let flat: InferenceModel;
  beforeAll(async () => {
    model = await InferenceModel.fromParameters(config, parameters(1, 8), { threads: 1, weights, decodeCache });
    flat = await InferenceModel.fromParameters(config, parameters(2, 1.5), { threads: 1, weights, decodeCache });
  });
  afterAll(async () => {
    await model.release();
    await flat.release();
  });

  it('gives the step mode\'s ids, greedy and sampled (temperature, top-p), across chunk boundaries', async () => {
    const cases: Array<[InferenceModel, Partial<GenerateOptions>]> = [
      [model, { temperature: 0 }],
      [model, { temperature: 1, seed: 3 }],
      [flat, { temperature: 0.7, topP: 0.9, seed: 4 }],
      [flat, { temperature: 1.3, topP: 0.5, seed: 5 }],
      [flat, { temperature: 2, topP: 1, seed: 6 }],
    ];
    for (const [m, options] of cases) {
      const before = { ...m.runs };
      // 3 + 17 new ids stay inside the context of 24; chunks of 5: one host step, then 5 + 5 + 5 + 1.
      const { loop, step } = await bothModes(m, [1, 2, 3], { maxNewTokens: 17, decodeChunk: 5, ...options });
      expect(loop).toEqual(step);
      expect(loop).toHaveLength(17);
      expect(m.runs.loop - before.loop).toBe(4);
      // The sampled cases really sample: not one token over and over.
      if (options.temperature !== 0) expect(new Set(loop).size).toBeGreaterThan(4);
    }
  });

  it('stops right after the stop token, inside a chunk and at its end', async () => {
    const options = { temperature: 1.2, topP: 0.95, seed: 7, maxNewTokens: 20 } as const;
    const free = await generate(flat, [5], { ...options, decode: 'step' });
    for (const at of [3, 6, 10]) {
      const stopToken = free[at]!;
      const cut = free.indexOf(stopToken) + 1; // the first occurrence ends the run
      const { loop, step } = await bothModes(flat, [5], { ...options, stopToken, decodeChunk: 4 });
      expect(step).toEqual(free.slice(0, cut));
      expect(loop).toEqual(step);
    }
  });

  it('keeps the step mode\'s behaviour at the context limit: past it every token is a prefill of the last window', async () => {
    for (const options of [{ temperature: 0 }, { temperature: 0.9, topP: 0.8, seed: 8 }]) {
      // A 20-token prompt in a context of 24: 5 tokens fit (the last at position 23), then the window slides.
      const prompt = Array.from({ length: 20 }, (_, i) => (i * 13) % config.vocabSize);
      const before = { ...model.runs };
      const { loop, step } = await bothModes(model, prompt, { maxNewTokens: 12, decodeChunk: 32, ...options });
      expect(loop).toEqual(step);
      // Each mode: 1 prefill for the prompt and 7 for slid windows. Step: 4 steps; loop: one chunk of 4.
      expect(model.runs.prefill - before.prefill).toBe(16);
      expect(model.runs.step - before.step).toBe(4);
      expect(model.runs.loop - before.loop).toBe(1);
      // A prompt longer than the context is cropped the same way.
      const long = Array.from({ length: 30 }, (_, i) => (i * 7) % config.vocabSize);
      const cropped = await bothModes(model, long, { maxNewTokens: 3, ...options });
      expect(cropped.loop).toEqual(cropped.step);
    }
  });
});

describe('decode_loop graph', () => {
  it.each(['grow', 'fixed'] as const)('outputs the logits of the float64 reference forward pass at every step, and the greedy ids (cache %s)', async (cacheLayout) => {
    const params = parameters(3, 8);
    const prompt = [4, 40, 90];
    const prefill = await Session.create(buildPrefillGraph(config), { threads: 1 });
    const decode = await Session.create(buildDecodeLoopGraph(config, { temperature: 0, topP: 1 }, { logits: true, cache: cacheLayout }), { threads: 1 });
    const weightFeeds: Record<string, HostTensor> = {};
    for (const spec of transformerParameters(config)) weightFeeds[spec.name] = { dtype: 'float32', dims: spec.shape, data: params.get(spec.name)! };
    // The prompt without its last id goes through prefill; the last id is the loop's first pending one.
    const cache = await prefill.run({
      ...weightFeeds,
      [IDS_INPUT]: { dtype: 'int64', dims: [1, 2], data: BigInt64Array.from(prompt.slice(0, 2), BigInt) },
      [LAST_POSITION_INPUT]: { dtype: 'int64', dims: [], data: new BigInt64Array([1n]) },
    });
    const feeds: Record<string, HostTensor> = {
      ...weightFeeds,
      [IDS_INPUT]: { dtype: 'int64', dims: [1, 1], data: new BigInt64Array([BigInt(prompt[2]!)]) },
      [POSITION_INPUT]: { dtype: 'int64', dims: [1], data: new BigInt64Array([2n]) },
      [UNIFORMS_INPUT]: { dtype: 'int64', dims: [8], data: new BigInt64Array(8) },
      [STOP_TOKEN_INPUT]: { dtype: 'int64', dims: [], data: new BigInt64Array([-1n]) },
    };
    for (let i = 0; i < config.numLayers; i++) for (const part of ['k', 'v'] as const) feeds[kvName('past', i, part)] = cache[kvName('present', i, part)]!;
    const out = await decode.run(feeds);
    const ids = Array.from(out[GENERATED_OUTPUT]!.data as BigInt64Array, Number);
    expect(out[LOGITS_OUTPUT]!.dims).toEqual([8, 1, config.vocabSize]);
    expect(out[FINITE_OUTPUT]).toBeUndefined();
    expect(out[kvName('present', 1, 'v')]!.dims).toEqual([1, config.numHeads, 2 + 8, config.dModel / config.numHeads]);
    const sequence = [...prompt, ...ids];
    const reference = referenceTransformerLm(config, Object.fromEntries(params), sequence, 1, sequence.length);
    const logits = out[LOGITS_OUTPUT]!.data as Float32Array;
    const V = config.vocabSize;
    for (let j = 0; j < 8; j++) {
      const expected = reference.subarray((2 + j) * V, (3 + j) * V);
      let worst = 0;
      let best = 0;
      for (let v = 0; v < V; v++) {
        worst = Math.max(worst, Math.abs(logits[j * V + v]! - expected[v]!));
        if (expected[v]! > expected[best]!) best = v;
      }
      expect(worst).toBeLessThan(2e-4);
      expect(ids[j]).toBe(best); // greedy picks the reference's argmax
    }
    // The uniforms fed are the 53-bit integers u·2^53.
    expect(UNIFORM_SCALE).toBe(9007199254740992);
    await prefill.release();
    await decode.release();
  });

  it('reports non-finite logits instead of sampling from them', async () => {
    const params = parameters(4, 8);
    params.set('ln_final.weight', new Float32Array(config.dModel).fill(Number.NaN));
    const m = await InferenceModel.fromParameters(config, params, { threads: 1 });
    await expect(generate(m, [1, 2], { maxNewTokens: 4, temperature: 1, decode: 'step' })).rejects.toThrow(/non-finite logits/);
    // The host step never samples here (it would throw first): ask the loop directly, from a cached prefix.
    await m.nextTokenLogits([1, 2]);
    await expect(m.continueInRuntime([1, 2, 3], new Float64Array([0.5, 0.5]), { temperature: 1, topP: 1 })).rejects.toThrow(/non-finite logits/);
    // Uniforms that Random.nextFloat cannot produce are refused before the run, as is a chunk past the context.
    await m.nextTokenLogits([1, 2]);
    await expect(m.continueInRuntime([1, 2, 3], new Float64Array([1]), { temperature: 1, topP: 1 })).rejects.toThrow(/uniform 1 is not a 53-bit float in \[0, 1\)/);
    await expect(m.continueInRuntime([1, 2, 3], new Float64Array([3 * 2 ** -60]), { temperature: 1, topP: 1 })).rejects.toThrow(/is not a 53-bit float/);
    await expect(m.continueInRuntime([1, 2, 3], new Float64Array(config.contextLength), { temperature: 1, topP: 1 })).rejects.toThrow(/run past the context length 24/);
    // Ids the cache does not hold (no prefix cached, or not one longer) are for a host step.
    expect(await m.continueInRuntime([7, 7, 7], new Float64Array(1), { temperature: 1, topP: 1 })).toBeUndefined();
    await m.release();
  });
});
