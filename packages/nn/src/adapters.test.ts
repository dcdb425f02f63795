/**
 * Conformance with the course's tests/test_model.py, run through ONNX Runtime (CPU): each adapter against the
 * course fixture, plus bad-input errors.
 */
import {
  runGelu, runMultiheadSelfAttention, runPositionwiseFeedforward, runRmsNorm, runScaledDotProductAttention, runSoftmax,
  runTransformerBlock, runTransformerLm,
} from './adapters.js';
import { erf, referenceSoftmax } from './reference-transformer.js';
import { describeWithFixtures, type NpyArray } from '../../../test-support/fixtures.js';
import { COURSE_BLOCK, COURSE_LM, COURSE_MHA, maxAbsDiff, npy, stateDict } from '../test/course-fixtures.js';
import { initParameters } from './parameters.js';

const asFloat = (a: { data: unknown }): Float32Array => a.data as Float32Array;

describeWithFixtures('course model fixtures through ORT CPU', () => {
  // Loaded in beforeAll: describe bodies run even when the suite is skipped for missing fixtures.
  let inFeatures: { data: Float32Array; dims: number[] };
  let q: NpyArray, k: NpyArray, v: NpyArray, mask: NpyArray, expectedAttention: Float32Array;
  beforeAll(() => {
    const features = npy('in_features.npy');
    inFeatures = { data: asFloat(features), dims: features.shape };
    [q, k, v] = ['Q', 'K', 'V'].map((n) => npy(`scaled_dot_product_attention_${n}.npy`)) as [NpyArray, NpyArray, NpyArray];
    mask = npy('scaled_dot_product_attention_mask.npy');
    expectedAttention = asFloat(npy('scaled_dot_product_attention_expected_output.npy'));
  });

  it('positionwise feed-forward (atol 1e-6)', async () => {
    const y = await runPositionwiseFeedforward({ dModel: 64, dFf: 128 }, stateDict('positionwise_feedforward_weights').weights, inFeatures);
    expect(y.dims).toEqual([8, 128, 64]);
    expect(maxAbsDiff(y.data as Float32Array, asFloat(npy('positionwise_feedforward_expected_output.npy')))).toBeLessThan(1e-6);
  });

  it('RMSNorm (atol 1e-6)', async () => {
    const y = await runRmsNorm({ dModel: 64 }, stateDict('rmsnorm_weights').weights, inFeatures);
    expect(maxAbsDiff(y.data as Float32Array, asFloat(npy('rmsnorm_expected_output.npy')))).toBeLessThan(1e-6);
  });


  it('scaled dot-product attention, 4-D (atol 1e-6)', async () => {
    const t = (a: NpyArray) => ({ data: asFloat(a), dims: a.shape });
    const y = await runScaledDotProductAttention(t(q), t(k), t(v), { data: mask.data as Uint8Array, dims: mask.shape });
    expect(y.dims).toEqual([8, 16, 32, 64]);
    expect(maxAbsDiff(y.data as Float32Array, expectedAttention)).toBeLessThan(1e-6);
  });

  it('scaled dot-product attention, 3-D: the course test takes batch element 0 (atol 1e-6)', async () => {
    const first = (a: NpyArray) => ({ data: asFloat(a).subarray(0, 16 * 32 * 64), dims: [16, 32, 64] });
    const y = await runScaledDotProductAttention(first(q), first(k), first(v), { data: mask.data as Uint8Array, dims: mask.shape });
    expect(maxAbsDiff(y.data as Float32Array, expectedAttention.subarray(0, 16 * 32 * 64))).toBeLessThan(1e-6);
  });

  it('multi-head self-attention from per-head weights (atol 1e-6)', async () => {
    const y = await runMultiheadSelfAttention(COURSE_MHA, stateDict('unbatched_multihead_self_attention_weights').weights, inFeatures);
    expect(maxAbsDiff(y.data as Float32Array, asFloat(npy('unbatched_multihead_self_attention_expected_output.npy')))).toBeLessThan(1e-6);
  });

  it('Transformer block (atol 1e-6)', async () => {
    const y = await runTransformerBlock(COURSE_BLOCK, stateDict('transformer_block_weights').weights, inFeatures);
    expect(maxAbsDiff(y.data as Float32Array, asFloat(npy('transformer_block_expected_output.npy')))).toBeLessThan(1e-6);
  });

  it('Transformer LM and truncated input (atol 1e-4)', async () => {
    const { weights } = stateDict('transformer_lm_weights');
    for (const [ids, expected] of [['in_indices.npy', 'transformer_lm_expected_output.npy'], ['in_indices_truncated.npy', 'transformer_lm_truncated_expected_output.npy']] as const) {
      const indices = npy(ids);
      const y = await runTransformerLm(COURSE_LM, weights, { data: indices.data as BigInt64Array, dims: indices.shape });
      expect(y.dims).toEqual(npy(expected).shape);
      expect(maxAbsDiff(y.data as Float32Array, asFloat(npy(expected)))).toBeLessThan(1e-4);
    }
  });
});

describe('GELU and softmax through ORT CPU', () => {
  it('GELU matches ½x(1 + erf(x/√2)) in float64, including large |x|', async () => {
    // The course's two GELU checks: values over a range, and large-magnitude inputs (no NaN/overflow).
    const xs = Float32Array.from([-30, -10, -3.5, -1, -0.25, 0, 0.1, 0.5, 1, 2.5, 4, 10, 30, 80]);
    const y = await runGelu({ data: xs, dims: [xs.length] });
    xs.forEach((x, i) => expect((y.data as Float32Array)[i]).toBeCloseTo(0.5 * x * (1 + erf(x / Math.SQRT2)), 6));
  });

  it('GELU on a random (8, 128, 64)-sized batch within float32 rounding of the float64 form', async () => {
    const xs = Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i * 12.9898) * 6);
    const y = (await runGelu({ data: xs, dims: [64, 64] })).data as Float32Array;
    let worst = 0;
    xs.forEach((x, i) => (worst = Math.max(worst, Math.abs(y[i]! - 0.5 * x * (1 + erf(x / Math.SQRT2))))));
    expect(worst).toBeLessThan(2e-6);
  });

  it('GELU in float64 (erf from elementary ops) matches the float64 form to 1e-12', async () => {
    const xs = Float64Array.from({ length: 401 }, (_, i) => -20 + i * 0.1);
    const y = (await runGelu({ data: xs, dims: [xs.length] })).data as Float64Array;
    expect(y).toBeInstanceOf(Float64Array);
    xs.forEach((x, i) => expect(Math.abs(y[i]! - 0.5 * x * (1 + erf(x / Math.SQRT2)))).toBeLessThan(1e-12));
  });

  it('softmax matches the float64 reference and is unchanged by a +100 shift', async () => {
    const xs = Float32Array.from({ length: 5 * 10 }, (_, i) => Math.cos(i * 3.3) * 3);
    const expected = referenceSoftmax(xs, 5, 10);
    const y = (await runSoftmax({ data: xs, dims: [5, 10] }, -1)).data as Float32Array;
    expect(maxAbsDiff(y, expected)).toBeLessThan(1e-6);
    const shifted = (await runSoftmax({ data: xs.map((x) => x + 100), dims: [5, 10] }, -1)).data as Float32Array;
    expect(maxAbsDiff(shifted, expected)).toBeLessThan(1e-5);
  });
});

describe('attention dropout', () => {
  it('drops probabilities with rate p and rescales the rest by 1/(1 − p) in training only', async () => {
    // q = k = 0 gives uniform probabilities 1/T; with V = 1 each output is (kept count)·(1/T)·1/(1 − p).
    const [heads, t, dk] = [64, 16, 4];
    const zeros = { data: new Float32Array(heads * t * dk), dims: [heads, t, dk] };
    const ones = { data: new Float32Array(heads * t * dk).fill(1), dims: [heads, t, dk] };
    const evaluation = (await runScaledDotProductAttention(zeros, zeros, ones, undefined, { attnPdrop: 0.5 })).data as Float32Array;
    expect(maxAbsDiff(evaluation, ones.data)).toBeLessThan(1e-6);
    const training = (await runScaledDotProductAttention(zeros, zeros, ones, undefined, { attnPdrop: 0.5, training: true, seed: 7 })).data as Float32Array;
    let total = 0;
    for (const y of training) {
      const kept = y * t * 0.5;
      expect(Math.abs(kept - Math.round(kept))).toBeLessThan(1e-4);
      total += y;
    }
    // Each of the 64·16 rows is Binomial(16, ½)/8 (σ 0.25); their mean is 1 with σ ≈ 0.25/√1024 ≈ 0.008.
    expect(Math.abs(total / training.length - 1)).toBeLessThan(0.05);
  });
});

describe('bad input', () => {
  const config = { vocabSize: 20, contextLength: 8, dModel: 16, numLayers: 1, numHeads: 2, dFf: 32 };
  const weights = initParameters(config, { seed: 2 });
  const ids = (t: number, value = 1) => ({ data: new Int32Array(t).fill(value), dims: [1, t] });

  it('names a missing or wrong-shaped weight', async () => {
    const { ['layers.0.attn.k_proj.weight']: _k, ...missing } = weights;
    await expect(runTransformerLm(config, missing, ids(4))).rejects.toThrow(/missing weight 'layers.0.attn.k_proj.weight'/);
    await expect(runTransformerLm(config, { ...weights, 'layers.0.ffn.w2.weight': new Float32Array(5) }, ids(4))).rejects.toThrow(
      /'layers.0.ffn.w2.weight' has 5 elements but the config needs shape \[16, 32\]/,
    );
  });

  it('rejects d_model % heads ≠ 0, sequences longer than the context, and ids ≥ vocab', async () => {
    await expect(runTransformerLm({ ...config, numHeads: 3 }, weights, ids(4))).rejects.toThrow(/dModel \(16\) must be divisible by numHeads \(3\)/);
    await expect(runTransformerLm(config, weights, ids(9))).rejects.toThrow(/sequence length 9 exceeds contextLength 8/);
    await expect(runTransformerLm(config, weights, ids(4, 20))).rejects.toThrow(/token id 20 at position 0 is outside the vocabulary \[0, 20\)/);
    await expect(runMultiheadSelfAttention({ dModel: 16, numHeads: 2 }, { 'q_heads.0.weight': new Float32Array(128) }, { data: new Float32Array(16), dims: [1, 1, 16] }))
      .rejects.toThrow(/missing weight 'q_heads.1.weight'/);
  });
});
