import {
  causalMask, erf, referenceAttention, referenceFeedForward, referenceGelu, referenceMultiHeadSelfAttention,
  referenceRmsNorm, referenceSoftmax, referenceTransformerBlock, referenceTransformerLm,
} from './reference-transformer.js';
import { resolveTransformerConfig } from './transformer-config.js';
import { initParameters } from './parameters.js';
import { describeWithFixtures } from '../../../test-support/fixtures.js';
import { COURSE_BLOCK, COURSE_LM, COURSE_MHA, maxAbsDiff, npy, stateDict } from '../test/course-fixtures.js';

// The float64 reference must itself pass the course fixtures before anything is compared with it.
describeWithFixtures('reference forward vs the course fixtures', () => {
  // Loaded in beforeAll: describe bodies run even when the suite is skipped for missing fixtures.
  let x: Float32Array; // (8, 128, 64)
  beforeAll(() => {
    x = npy('in_features.npy').data as Float32Array;
  });

  it('FFN', () => {
    const { weights } = stateDict('positionwise_feedforward_weights');
    const y = referenceFeedForward(x, weights['w1.weight']!, weights['w2.weight']!, 8 * 128, 64, 128);
    expect(maxAbsDiff(y, npy('positionwise_feedforward_expected_output.npy').data as Float32Array)).toBeLessThan(1e-5);
  });

  it('RMSNorm', () => {
    const y = referenceRmsNorm(x, stateDict('rmsnorm_weights').weights['weight']!, 8 * 128, 64);
    expect(maxAbsDiff(y, npy('rmsnorm_expected_output.npy').data as Float32Array)).toBeLessThan(1e-5);
  });

  it('scaled dot-product attention with the course mask (true = masked out)', () => {
    const [q, k, v] = ['Q', 'K', 'V'].map((n) => npy(`scaled_dot_product_attention_${n}.npy`).data as Float32Array);
    const mask = npy('scaled_dot_product_attention_mask.npy').data as Uint8Array;
    expect(Array.from(mask)).toEqual(Array.from(causalMask(32)));
    const y = referenceAttention(q!, k!, v!, 8 * 16, 32, 32, 64, 64, mask);
    expect(maxAbsDiff(y, npy('scaled_dot_product_attention_expected_output.npy').data as Float32Array)).toBeLessThan(1e-5);
  });

  it('multi-head self-attention (per-head fixture weights concatenated)', () => {
    const { weights } = stateDict('unbatched_multihead_self_attention_weights');
    const cat = (p: string): Float32Array => {
      const heads = [0, 1].map((h) => weights[`${p}_heads.${h}.weight`]!);
      const out = new Float32Array(heads[0]!.length * 2);
      heads.forEach((h, i) => out.set(h, i * h.length));
      return out;
    };
    const y = referenceMultiHeadSelfAttention(
      x, { q: cat('q'), k: cat('k'), v: cat('v'), output: weights['output_proj.weight']! }, 8, 128, COURSE_MHA.dModel, COURSE_MHA.numHeads,
    );
    expect(maxAbsDiff(y, npy('unbatched_multihead_self_attention_expected_output.npy').data as Float32Array)).toBeLessThan(1e-5);
  });

  it('Transformer block', () => {
    const { weights } = stateDict('transformer_block_weights');
    const config = resolveTransformerConfig({ ...COURSE_BLOCK, numLayers: 1 });
    const y = referenceTransformerBlock(config, (name) => weights[name]!, x, 8, 128);
    expect(maxAbsDiff(y, npy('transformer_block_expected_output.npy').data as Float32Array)).toBeLessThan(1e-5);
  });

  it('Transformer LM, full and truncated input', () => {
    const { weights } = stateDict('transformer_lm_weights');
    for (const [ids, expected, t] of [['in_indices.npy', 'transformer_lm_expected_output.npy', 64], ['in_indices_truncated.npy', 'transformer_lm_truncated_expected_output.npy', 60]] as const) {
      const logits = referenceTransformerLm(COURSE_LM, weights, npy(ids).data as BigInt64Array, 8, t);
      expect(maxAbsDiff(logits, npy(expected).data as Float32Array)).toBeLessThan(1e-4);
    }
  });
});

describe('reference pieces', () => {
  it('erf matches known values and odd symmetry', () => {
    // Abramowitz & Stegun table values.
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 15);
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 15);
    expect(erf(2)).toBeCloseTo(0.9953222650189527, 15);
    expect(erf(3)).toBeCloseTo(0.9999779095030014, 15);
    expect(erf(-1.3)).toBeCloseTo(-erf(1.3), 16);
  });

  it('gelu approaches relu far from 0 and is x/2 slope at 0', () => {
    const y = referenceGelu([-10, 0, 10, 1e-8]);
    expect(y[0]).toBeCloseTo(0, 12);
    expect(y[1]).toBe(0);
    expect(y[2]).toBeCloseTo(10, 12);
    expect(y[3]! / 1e-8).toBeCloseTo(0.5, 8);
  });

  it('softmax rows sum to 1 and ignore a constant shift', () => {
    const y = referenceSoftmax([1, 2, 3, 101, 102, 103], 2, 3);
    expect(y[0]! + y[1]! + y[2]!).toBeCloseTo(1, 15);
    for (let i = 0; i < 3; i++) expect(y[i]).toBeCloseTo(y[i + 3]!, 15);
  });

  it('tied embeddings use token_embeddings.weight as the head', () => {
    const config = { vocabSize: 11, contextLength: 6, dModel: 8, numLayers: 1, numHeads: 2, dFf: 12 };
    const untied = initParameters(config, { seed: 3, dtype: 'float64' });
    untied['lm_head.weight'] = untied['token_embeddings.weight']!;
    const tied = { ...untied };
    delete tied['lm_head.weight'];
    const ids = [1, 2, 3, 4, 5, 6];
    expect(Array.from(referenceTransformerLm({ ...config, tieEmbeddings: true }, tied, ids, 1, 6))).toEqual(
      Array.from(referenceTransformerLm(config, untied, ids, 1, 6)),
    );
  });

  it('names missing weights, long sequences and out-of-vocabulary ids', () => {
    const config = { vocabSize: 11, contextLength: 4, dModel: 8, numLayers: 1, numHeads: 2, dFf: 12 };
    const weights = initParameters(config, { seed: 1 });
    expect(() => referenceTransformerLm(config, weights, [1, 2, 3, 4, 5], 1, 5)).toThrow(/sequence length 5 exceeds contextLength 4/);
    expect(() => referenceTransformerLm(config, weights, [1, 11], 1, 2)).toThrow(/token id 11 at position 1 is outside the vocabulary \[0, 11\)/);
    const { ['layers.0.ffn.w1.weight']: _dropped, ...missing } = weights;
    expect(() => referenceTransformerLm(config, missing, [1, 2], 1, 2)).toThrow(/missing weight 'layers.0.ffn.w1.weight'/);
    expect(() => referenceTransformerLm(config, { ...weights, 'ln_final.weight': new Float32Array(3) }, [1], 1, 1)).toThrow(/'ln_final.weight' has 3 elements/);
  });
});
