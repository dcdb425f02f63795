import { parameterCount, resolveTransformerConfig, transformerParameters } from '@cs336/nn';
import { resolveTrainConfig } from './train-config.js';
import { HANDOUT_TOKEN_BUDGET, TRAINING_PRESETS, presetSteps } from './presets.js';

describe('training presets', () => {
  it.each(['tinystories', 'owt'] as const)('%s: the handout model, and steps × batch × context covers the 327,680,000-token budget', (name) => {
    const preset = TRAINING_PRESETS[name];
    const model = resolveTransformerConfig(preset.model);
    expect(model).toMatchObject({ contextLength: 256, dModel: 512, numLayers: 4, numHeads: 16, dFf: 2048, vocabSize: preset.vocabSize });
    const train = resolveTrainConfig({ ...preset.train, trainData: 'x.bin' });
    expect(train.steps * train.batchSize * model.contextLength).toBe(HANDOUT_TOKEN_BUDGET); // 10,000 · 128 · 256 exactly
    expect(train.warmupSteps).toBeLessThan(train.steps);
    // Parameter count from first principles (the 2024 model: learned positions, GELU FFN): token embeddings + LM head 2·V·d,
    // positions T·d, per layer 4d² (attention) + 2·d·d_ff (FFN) + 2d (norms), final norm d.
    const d = 512, ff = 2048, V = preset.vocabSize, T = 256;
    expect(parameterCount(transformerParameters(model))).toBe(2 * V * d + T * d + 4 * (4 * d * d + 2 * d * ff + 2 * d) + d);
  });

  it('rounds the step count up when the budget does not divide', () => {
    expect(presetSteps(1000, 3, 10)).toBe(34);
    expect(presetSteps(HANDOUT_TOKEN_BUDGET, 32, 256)).toBe(40_000);
  });
});
