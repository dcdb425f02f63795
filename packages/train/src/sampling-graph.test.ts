import { GraphBuilder, Session } from '@cs336/graph';
import { nextTokenDistribution, pickToken } from './generate.js';
import { Random } from './random.js';
import { UNIFORM_SCALE, sampleToken, type SamplingSettings } from './sampling-graph.js';

async function graphSampler(vocabSize: number, settings: SamplingSettings): Promise<{ pick(logits: Float32Array, u: number): Promise<number>; release(): Promise<void> }> {
  const g = new GraphBuilder('sample');
  const logits = g.input('logits', 'float32', [1, vocabSize]);
  const u53 = g.input('u53', 'int64', []);
  const { id } = sampleToken(logits, u53, settings);
  g.output(id, 'id');
  const session = await Session.create(g, { threads: 1 });
  return {
    async pick(values, u) {
      const out = await session.run({
        logits: { dtype: 'float32', dims: [1, vocabSize], data: values },
        u53: { dtype: 'int64', dims: [], data: new BigInt64Array([BigInt(u * UNIFORM_SCALE)]) },
      });
      return Number((out.id!.data as BigInt64Array)[0]);
    },
    release: () => session.release(),
  };
}

/** Uniforms on both sides of each boundary of the host's running sums (at 2^-53 resolution), plus a few random ones. */
function adversarialUniforms(probabilities: Float64Array, random: Random): number[] {
  const us: number[] = [0, 1 - 2 ** -53];
  let cumulative = 0;
  for (const p of probabilities) {
    if (p === 0) continue;
    cumulative += p;
    const at = Math.floor(cumulative * UNIFORM_SCALE);
    for (const k of [at - 1, at, at + 1]) if (k >= 0 && k < UNIFORM_SCALE) us.push(k / UNIFORM_SCALE);
  }
  for (let i = 0; i < 4; i++) us.push(random.nextFloat());
  return us;
}

describe('sampleToken (graph) vs generate()\'s host sampling', () => {
  // top-p 1 − 1e-12 takes the graph's sort-everything path; the others sort only the candidates ≥ (1 − topP)/V.
  it('picks the host\'s token for uniforms right at the host\'s boundaries, with ties, peaks and nuclei', async () => {
    const random = Random.seeded(21);
    let compared = 0;
    for (const V of [7, 64]) {
      for (const settings of [{ temperature: 1, topP: 1 }, { temperature: 0.6, topP: 0.9 }, { temperature: 1.7, topP: 0.3 }, { temperature: 0.25, topP: 0.999 }, { temperature: 1, topP: 1 - 1e-12 }]) {
        const sampler = await graphSampler(V, settings);
        for (let trial = 0; trial < 6; trial++) {
          // Rounded logits make ties common, including at the nucleus cut.
          const spread = [0.5, 3, 12][trial % 3]!;
          const logits = Float32Array.from({ length: V }, () => Math.round((random.nextFloat() - 0.5) * spread * 4) / 4);
          const probabilities = nextTokenDistribution(logits, settings.temperature, settings.topP);
          // Only boundaries inside the kept set matter; check them all (V = 64 keeps it fast by sampling some).
          const us = adversarialUniforms(probabilities, random);
          for (const u of V > 10 ? us.filter((_, i) => i % 3 === 0 || i < 2) : us) {
            expect([settings, u, await sampler.pick(logits, u)]).toEqual([settings, u, pickToken(probabilities, u)]);
            compared++;
          }
        }
        await sampler.release();
      }
    }
    expect(compared).toBeGreaterThan(500);
  });

  it('greedy is the first maximum, as the host scan', async () => {
    const sampler = await graphSampler(5, { temperature: 0, topP: 1 });
    for (const logits of [[1, 3, 3, 0, 2], [4, 4, 4, 4, 4], [-1, -2, -3, -4, 0.5]]) {
      const values = Float32Array.from(logits);
      expect(await sampler.pick(values, 0.5)).toBe(pickToken(nextTokenDistribution(values, 0, 1), 0.5));
    }
    await sampler.release();
  });
});
