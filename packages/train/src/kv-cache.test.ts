import { Session, type HostTensor } from '@cs336/graph';
import { initParameters, referenceTransformerLm, resolveTransformerConfig, transformerParameters, type TransformerConfig } from '@cs336/nn';
import { generate, type NextTokenModel } from './generate.js';
import { IDS_INPUT, LAST_POSITION_INPUT, LOGITS_OUTPUT, buildInferGraph } from './train-step.js';
import { InferenceModel, type InferenceWeights } from './training-session.js';

// The reference is the padded infer graph: it recomputes the whole window for every token and never
// sees a KV cache, so it is independent of the prefill/decode-step graphs under test.
const config: TransformerConfig = resolveTransformerConfig({ vocabSize: 61, contextLength: 10, dModel: 32, numLayers: 2, numHeads: 4, dFf: 64 });

function parameters(seed: number): Map<string, Float32Array> {
  // Weights 20× the usual init, so that logits differ clearly between tokens and positions.
  const weights = initParameters(config, { seed });
  return new Map(Object.entries(weights).map(([name, data]) => [name, Float32Array.from(data, (x) => (name.includes('ln') ? x : 20 * x))]));
}

async function paddedReference(params: Map<string, Float32Array>): Promise<NextTokenModel & { release(): Promise<void> }> {
  const session = await Session.create(buildInferGraph(config), { threads: 1 });
  return {
    contextLength: config.contextLength,
    vocabSize: config.vocabSize,
    async nextTokenLogits(ids) {
      const feeds: Record<string, HostTensor> = {
        [IDS_INPUT]: { dtype: 'int64', dims: [1, config.contextLength], data: BigInt64Array.from({ length: config.contextLength }, (_, i) => BigInt(ids[i] ?? 0)) },
        [LAST_POSITION_INPUT]: { dtype: 'int64', dims: [], data: new BigInt64Array([BigInt(ids.length - 1)]) },
      };
      for (const spec of transformerParameters(config)) feeds[spec.name] = { dtype: 'float32', dims: spec.shape, data: params.get(spec.name)! };
      return (await session.run(feeds))[LOGITS_OUTPUT]!.data as Float32Array;
    },
    release: () => session.release(),
  };
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe.each<InferenceWeights>(['baked', 'fed'])('InferenceModel KV cache, weights %s', (weights) => {
  it('gives the logits of the padded infer graph, one decode step per added token', async () => {
    const params = parameters(1);
    const model = await InferenceModel.fromParameters(config, params, { threads: 1, weights });
    const reference = await paddedReference(params);
    const ids = [5, 17, 3];
    for (let length = 3; length <= config.contextLength; length++) {
      const logits = await model.nextTokenLogits(ids.slice(0, length));
      const expected = await reference.nextTokenLogits(ids.slice(0, length));
      expect(maxAbsDifference(logits, expected)).toBeLessThan(2e-4);
      ids.push((ids.at(-1)! * 7 + length) % config.vocabSize);
    }
    // One prefill for the prompt, then a step for each of the seven tokens added to it.
    expect(model.runs).toEqual({ prefill: 1, step: 7, loop: 0 });
    // And the reference itself against the float64 forward pass of @cs336/nn, at every position.
    const window = ids.slice(0, config.contextLength);
    const full = referenceTransformerLm(config, Object.fromEntries(params), window, 1, window.length);
    for (let length = 1; length <= window.length; length++) {
      const expected = full.subarray((length - 1) * config.vocabSize, length * config.vocabSize);
      expect(maxAbsDifference(await reference.nextTokenLogits(window.slice(0, length)), expected)).toBeLessThan(2e-4);
    }

    // Ids that do not extend the last call's by one token (a new prompt, a slid window, a shorter or
    // equal sequence) are prefilled again, and still right.
    for (const other of [[9, 9, 9, 9], [9, 9, 9, 9], [9, 9, 9], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]]) {
      expect(maxAbsDifference(await model.nextTokenLogits(other), await reference.nextTokenLogits(other))).toBeLessThan(2e-4);
    }
    expect(model.runs).toEqual({ prefill: 6, step: 7, loop: 0 });
    await model.release();
    await reference.release();
  });

  it('generates what full recomputation generates, greedy and sampled, past the context length', async () => {
    const params = parameters(2);
    const model = await InferenceModel.fromParameters(config, params, { threads: 1, weights });
    const reference = await paddedReference(params);
    for (const options of [{ temperature: 0 }, { temperature: 1, seed: 3 }]) {
      const expected = await generate(reference, [1, 2], { maxNewTokens: 20, ...options });
      expect(await generate(model, [1, 2], { maxNewTokens: 20, decode: 'step', ...options })).toEqual(expected);
      expect(await generate(model, [1, 2], { maxNewTokens: 20, decode: 'loop', decodeChunk: 3, ...options })).toEqual(expected);
    }
    expect(model.runs.step).toBeGreaterThanOrEqual(2 * (config.contextLength - 2));
    await model.release();
    await reference.release();
  });

  it('rejects a parameter set that misses a tensor', async () => {
    const params = parameters(3);
    params.delete('layers.1.ffn.w2.weight');
    await expect(InferenceModel.fromParameters(config, params, { weights })).rejects.toThrow(/missing parameter "layers\.1\.ffn\.w2\.weight"/);
  });
});

describe('InferenceModel weights', () => {
  it('baked graphs give the fed graphs\' logits, prefill and decode step,', async () => {
    const params = parameters(4);
    const [baked, fed] = await Promise.all((['baked', 'fed'] as const).map((weights) => InferenceModel.fromParameters(config, params, { threads: 1, weights })));
    expect([baked!.weights, fed!.weights]).toEqual(['baked', 'fed']);
    const ids = [4, 8, 15, 16, 23, 42 % config.vocabSize];
    for (let length = 2; length <= ids.length; length++) {
      expect(maxAbsDifference(await baked!.nextTokenLogits(ids.slice(0, length)), await fed!.nextTokenLogits(ids.slice(0, length)))).toBeLessThan(1e-5);
    }
    expect(baked!.runs).toEqual({ prefill: 1, step: 4, loop: 0 });
    await Promise.all([baked!.release(), fed!.release()]);
  });

  it('refuses an unknown weights mode', async () => {
    await expect(InferenceModel.fromParameters(config, parameters(5), { weights: 'both' as InferenceWeights })).rejects.toThrow(/weights must be 'baked' or 'fed'/);
  });
});
