import { GraphBuilder, Session, hostTensor } from '@cs336/graph';
import { createParameterValues } from './parameter-values.js';
import { initParameters, transformerParameters } from './parameters.js';
import { referenceTransformerLm } from './reference-transformer.js';
import { resolveTransformerConfig, type TransformerConfig } from './transformer-config.js';
import { transformerLm } from './transformer-lm.js';
import { maxAbsDiff } from '../test/course-fixtures.js';

const BASE = { vocabSize: 23, contextLength: 12, dModel: 16, numLayers: 2, numHeads: 4, dFf: 24 };

/** Builds the LM with symbolic (B, T), runs it on ORT CPU, returns logits. */
async function runLm(config: TransformerConfig, dtype: 'float32' | 'float64', ids: number[], batch: number, t: number, seed = 9) {
  const specs = transformerParameters(config);
  const weights = initParameters(config, { seed, dtype: 'float64' });
  // Larger-than-init weights so every piece (norm gains, attention pattern) matters in the comparison.
  for (const spec of specs) if (spec.init.kind === 'normal') weights[spec.name] = weights[spec.name]!.map((w) => w * 15);
  for (const spec of specs) if (spec.init.kind === 'ones') weights[spec.name] = weights[spec.name]!.map((_, i) => 1 + 0.1 * Math.sin(i));
  const g = new GraphBuilder('lm');
  const params = createParameterValues(g, specs, dtype);
  const idsValue = g.input('ids', 'int64', ['B', 'T']);
  g.output(transformerLm(idsValue, params, config), 'logits');
  const session = await Session.create(g);
  const feeds = Object.fromEntries(specs.map((s) => [s.name, hostTensor(dtype, s.shape, dtype === 'float32' ? Float32Array.from(weights[s.name]!) : weights[s.name]!)]));
  const out = await session.run({ ...feeds, ids: hostTensor('int64', [batch, t], BigInt64Array.from(ids.map(BigInt))) });
  await session.release();
  return { logits: out['logits']!, expected: referenceTransformerLm(config, weights, ids, batch, t) };
}

describe('transformerLm graph vs the float64 reference', () => {
  const ids = [3, 7, 1, 22, 0, 5, 9, 9, 14, 2, 11, 4, 8, 6];

  it.each([
    ['pre-norm', {}],
    ['post-norm', { norm: 'post' as const }],
    ['no norm', { norm: 'none' as const }],
    ['parallel', { parallel: true }],
    ['tied embeddings', { tieEmbeddings: true }],
  ])('%s (float32, symbolic B and T)', async (_name, overrides) => {
    const config = resolveTransformerConfig({ ...BASE, ...overrides });
    const { logits, expected } = await runLm(config, 'float32', ids, 2, 7);
    expect(logits.dims).toEqual([2, 7, 23]);
    const scale = Math.max(...Array.from(expected, Math.abs));
    expect(maxAbsDiff(logits.data as Float32Array, expected) / scale).toBeLessThan(2e-5);
  });

  it('runs in float64 to 1e-12 of the reference', async () => {
    const config = resolveTransformerConfig(BASE);
    const { logits, expected } = await runLm(config, 'float64', ids.slice(0, 12), 1, 12);
    expect(logits.data).toBeInstanceOf(Float64Array);
    const scale = Math.max(...Array.from(expected, Math.abs));
    expect(maxAbsDiff(logits.data as Float64Array, expected) / scale).toBeLessThan(1e-12);
  });

  // dk = 12 and 48: 1/√dk is not a power of two, so a float32 scale anywhere in the graph would show (~1e-8).
  it.each([[12, 2], [48, 1]])('runs in float64 to 1e-12 of the reference with head size %i', async (dk, numHeads) => {
    const config = resolveTransformerConfig({ ...BASE, dModel: dk * numHeads, numHeads, dFf: 40 });
    const { logits, expected } = await runLm(config, 'float64', ids.slice(0, 12), 1, 12);
    const scale = Math.max(...Array.from(expected, Math.abs));
    expect(maxAbsDiff(logits.data as Float64Array, expected) / scale).toBeLessThan(1e-12);
  });

  it('is causal: changing a later token leaves earlier logits unchanged', async () => {
    const config = resolveTransformerConfig(BASE);
    const a = await runLm(config, 'float32', [1, 2, 3, 4, 5], 1, 5);
    const b = await runLm(config, 'float32', [1, 2, 3, 4, 17], 1, 5);
    const early = 4 * 23;
    expect(Array.from((a.logits.data as Float32Array).subarray(0, early))).toEqual(Array.from((b.logits.data as Float32Array).subarray(0, early)));
    expect(maxAbsDiff((a.logits.data as Float32Array).subarray(early), (b.logits.data as Float32Array).subarray(early))).toBeGreaterThan(1e-3);
  });

  it('adds dropout nodes only in training mode and rejects static sequences past the context', () => {
    const config = resolveTransformerConfig({ ...BASE, attnPdrop: 0.1, residualPdrop: 0.2 });
    const count = (training: boolean): number => {
      const g = new GraphBuilder('lm');
      const params = createParameterValues(g, transformerParameters(config), 'float32');
      g.output(transformerLm(g.input('ids', 'int64', ['B', 'T']), params, config, { training, seed: 1 }));
      return g.nodes.filter((n) => n.opType === 'Dropout').length;
    };
    expect(count(false)).toBe(0);
    // Embedding dropout, then per layer: attention probabilities + two residual branches.
    expect(count(true)).toBe(1 + 2 * 3);
    const g = new GraphBuilder('lm');
    const params = createParameterValues(g, transformerParameters(config), 'float32');
    expect(() => transformerLm(g.input('ids', 'int64', [1, 13]), params, config)).toThrow(/sequence length 13 exceeds contextLength 12/);
  });
});
