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
    expect(() => resolveTransformerConfig({ norm: 'layer' as never })).toThrow(/norm must be 'pre', 'post' or 'none', got layer/);
    expect(() => resolveTransformerConfig({ norm: 'post', parallel: true })).toThrow(/parallel blocks need norm 'pre' or 'none'/);
  });
});
