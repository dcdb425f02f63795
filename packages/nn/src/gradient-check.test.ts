/**
 * The full LM loss gradient w.r.t. every parameter, from the graph's reverse-mode autodiff run on ORT CPU,
 * against central finite differences of the independent float64 reference (referenceTransformerLm + a host
 * cross-entropy), for every element of every parameter. Tolerances are relative to the largest gradient:
 *  - float64 graph 2e-9: float64 throughout (GELU's erf is built from elementary ops, see erf-float64.ts);
 *    what remains is the central difference itself (h = 1e-5: truncation ~h²·f''' plus rounding ~1e-16/h).
 *    Measured ≤ 4e-10.
 *  - float32 graph 2e-5: float32 rounding (ε ≈ 6e-8) compounded over a few dozen chained ops and sums of up to
 *    ~100 terms. (Token-embedding gradients measured ≤ 3e-7.)
 */
import { GraphBuilder, Session, gatherElements, gradients, hostTensor, logSoftmax, neg, reduceMean, unsqueeze, type Value } from '@cs336/graph';
import { createParameterValues } from './parameter-values.js';
import { initParameters, transformerParameters, type Weights } from './parameters.js';
import { referenceTransformerLm } from './reference-transformer.js';
import { resolveTransformerConfig, type TransformerConfig } from './transformer-config.js';
import { transformerLm } from './transformer-lm.js';

const [BATCH, T] = [2, 5];
const IDS = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
const TARGETS = [1, 4, 1, 5, 9, 2, 6, 5, 3, 5];

function referenceLoss(config: TransformerConfig, weights: Weights): number {
  const logits = referenceTransformerLm(config, weights, IDS, BATCH, T);
  const V = config.vocabSize;
  let total = 0;
  for (let r = 0; r < BATCH * T; r++) {
    const row = logits.subarray(r * V, (r + 1) * V);
    const max = Math.max(...row);
    total += Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0)) + max - row[TARGETS[r]!]!;
  }
  return total / (BATCH * T);
}

async function graphGradients(config: TransformerConfig, weights: Weights, dtype: 'float32' | 'float64') {
  const specs = transformerParameters(config);
  const g = new GraphBuilder('lm_grad');
  const params = createParameterValues(g, specs, dtype);
  const ids = g.input('ids', 'int64', [BATCH, T]);
  const targets = g.input('targets', 'int64', [BATCH, T]);
  const logits = transformerLm(ids, params, config);
  // The test's own loss: mean over positions of −log softmax(logits)[target].
  const loss = neg(reduceMean(gatherElements(logSoftmax(logits, -1), unsqueeze(targets, [-1]), -1), undefined, false));
  g.output(loss, 'loss');
  const grads = gradients(loss, specs.map((s) => params[s.name]!));
  grads.forEach((grad: Value, i) => g.output(grad, `${specs[i]!.name}_grad`));
  const session = await Session.create(g);
  const toData = (w: Float64Array | Float32Array) => (dtype === 'float32' ? Float32Array.from(w) : Float64Array.from(w));
  const out = await session.run({
    ...Object.fromEntries(specs.map((s) => [s.name, hostTensor(dtype, s.shape, toData(weights[s.name]!))])),
    ids: hostTensor('int64', [BATCH, T], BigInt64Array.from(IDS.map(BigInt))),
    targets: hostTensor('int64', [BATCH, T], BigInt64Array.from(TARGETS.map(BigInt))),
  });
  await session.release();
  return { loss: Number(out['loss']!.data[0]), grads: Object.fromEntries(specs.map((s) => [s.name, out[`${s.name}_grad`]!.data as Float64Array])) };
}

describe.each([
  ['pre-norm, untied', {}],
  // The ablations with one layer: the second layer adds nothing new and doubles the finite-difference time.
  ['parallel, tied embeddings', { parallel: true, tieEmbeddings: true, numLayers: 1 }],
  ['post-norm', { norm: 'post' as const, numLayers: 1 }],
])('LM loss gradient vs finite differences (%s)', (_name, overrides) => {
  const config = resolveTransformerConfig({ vocabSize: 11, contextLength: 6, dModel: 8, numLayers: 2, numHeads: 2, dFf: 12, ...overrides });
  const weights = initParameters(config, { seed: 13, dtype: 'float64' });
  // Scale the small init up so attention, GELU and the norms all work away from their linear regime.
  for (const spec of transformerParameters(config)) {
    weights[spec.name] = weights[spec.name]!.map((w, i) => (spec.init.kind === 'ones' ? 1 + 0.3 * Math.cos(i) : w * 20));
  }
  const h = 1e-5;
  const finiteDifferences: Record<string, Float64Array> = {};
  for (const spec of transformerParameters(config)) {
    const w = weights[spec.name]!;
    finiteDifferences[spec.name] = Float64Array.from(w, (original, i) => {
      w[i] = original + h;
      const plus = referenceLoss(config, weights);
      w[i] = original - h;
      const minus = referenceLoss(config, weights);
      w[i] = original;
      return (plus - minus) / (2 * h);
    });
  }
  const all = Object.values(finiteDifferences).flatMap((d) => Array.from(d));
  const scale = Math.max(...all.map(Math.abs));

  it('float64 graph: every parameter within 2e-9 of the largest gradient', async () => {
    const { loss, grads } = await graphGradients(config, weights, 'float64');
    expect(loss).toBeCloseTo(referenceLoss(config, weights), 6);
    for (const [name, expected] of Object.entries(finiteDifferences)) {
      const got = grads[name]!;
      expect(got).toHaveLength(expected.length);
      let worst = 0;
      expected.forEach((e, i) => (worst = Math.max(worst, Math.abs(got[i]! - e))));
      if (worst > 2e-9 * scale) throw new Error(`${name}: worst |graph − finite difference| ${worst} > ${2e-9 * scale}`);
    }
    // Guard against a vacuous pass: the gradients are far from zero.
    expect(scale).toBeGreaterThan(1e-2);
  });

  it('float32 graph: every parameter within 2e-5 of the largest gradient', async () => {
    const { grads } = await graphGradients(config, weights, 'float32');
    for (const [name, expected] of Object.entries(finiteDifferences)) {
      const got = grads[name]!;
      let worst = 0;
      expected.forEach((e, i) => (worst = Math.max(worst, Math.abs(got[i]! - e))));
      if (worst > 2e-5 * scale) throw new Error(`${name}: worst |graph − finite difference| ${worst} > ${2e-5 * scale}`);
    }
  });
});
