import { DEFAULT_TRANSFORMER_CONFIG, headSize, resolveTransformerConfig } from './transformer-config.js';

describe('resolveTransformerConfig', () => {
  it('fills defaults and freezes the result', () => {
    const config = resolveTransformerConfig({ numLayers: 2 });
    expect(config).toEqual({ ...DEFAULT_TRANSFORMER_CONFIG, numLayers: 2 });
    expect(Object.isFrozen(config)).toBe(true);
    expect(headSize(config)).toBe(512 / 16);
    expect(config.rmsNormEps).toBe(1e-5);
  });

  it('rejects dModel not divisible by numHeads, naming both', () => {
    expect(() => resolveTransformerConfig({ dModel: 100, numHeads: 3 })).toThrow(/dModel \(100\) must be divisible by numHeads \(3\)/);
  });

  it('rejects bad sizes, dropout rates, norms and the post-norm parallel block', () => {
    expect(() => resolveTransformerConfig({ vocabSize: 0 })).toThrow(/vocabSize must be a positive integer, got 0/);
    expect(() => resolveTransformerConfig({ attnPdrop: 1 })).toThrow(/attnPdrop must be in \[0, 1\), got 1/);
    expect(() => resolveTransformerConfig({ norm: 'layer' as never })).toThrow('TransformerConfig: norm must be one of "pre", "post", "none", got the string "layer"');
    expect(() => resolveTransformerConfig({ norm: 'post', parallel: true })).toThrow(/parallel blocks need norm 'pre' or 'none'/);
  });

  // A config from JSON: before, unknown keys were spread in and ignored, and '64' passed as a number check's NaN.
  it('rejects unknown fields, naming the nearest one, and values of the wrong type', () => {
    expect(() => resolveTransformerConfig({ dmodel: 64 } as never)).toThrow('TransformerConfig: unknown field "dmodel"; did you mean "dModel"?');
    expect(() => resolveTransformerConfig({ num_layers: 2 } as never)).toThrow('unknown field "num_layers"; did you mean "numLayers"?');
    expect(() => resolveTransformerConfig({ dModel: '64' } as never)).toThrow('TransformerConfig: dModel must be a number, got the string "64"');
    expect(() => resolveTransformerConfig({ norm: 1 } as never)).toThrow('TransformerConfig: norm must be one of "pre", "post", "none", got the number 1');
    expect(() => resolveTransformerConfig({ parallel: 'yes' } as never)).toThrow('parallel must be a boolean, got the string "yes"');
    expect(resolveTransformerConfig({ dModel: undefined }).dModel).toBe(DEFAULT_TRANSFORMER_CONFIG.dModel);
  });
});
