import fs from 'node:fs';
import { initParameters, transformerParameters } from './parameters.js';
import { resolveTransformerConfig } from './transformer-config.js';
import { describeWithFixtures, fixturePath } from '../../../test-support/fixtures.js';
import { COURSE_LM } from '../test/course-fixtures.js';

interface ManifestEntry { source_pt: string; key: string | null; shape: number[] }

describeWithFixtures('transformerParameters vs the course state dict', () => {
  it('has exactly the keys and shapes of transformer_lm_weights.pt, in state-dict order', () => {
    const manifest = JSON.parse(fs.readFileSync(fixturePath('derived', 'npy', 'manifest.json'), 'utf8')) as { files: ManifestEntry[] };
    const course = manifest.files.filter((f) => f.source_pt === 'transformer_lm_weights.pt').map((f) => [f.key, f.shape]);
    const ours = transformerParameters(resolveTransformerConfig(COURSE_LM)).map((s) => [s.name, s.shape]);
    expect(ours).toEqual(course);
  });
});

describe('transformerParameters', () => {
  const config = resolveTransformerConfig({ vocabSize: 50, contextLength: 8, dModel: 16, numLayers: 3, numHeads: 4, dFf: 24 });

  it('drops lm_head.weight when embeddings are tied and the gains when norm is none', () => {
    const names = (c: typeof config): string[] => transformerParameters(c).map((s) => s.name);
    expect(names(resolveTransformerConfig({ ...config, tieEmbeddings: true }))).not.toContain('lm_head.weight');
    const none = names(resolveTransformerConfig({ ...config, norm: 'none' }));
    expect(none.filter((n) => n.includes('ln'))).toEqual([]);
    expect(none).toHaveLength(2 + 3 * 6 + 1);
  });
});

describe('initParameters', () => {
  const config = { vocabSize: 50, contextLength: 8, dModel: 64, numLayers: 8, numHeads: 4, dFf: 128 };

  it('is deterministic per seed and different across seeds', () => {
    const a = initParameters(config, { seed: 5 });
    const b = initParameters(config, { seed: 5 });
    const c = initParameters(config, { seed: 6 });
    expect(Array.from(a['layers.3.ffn.w1.weight']!)).toEqual(Array.from(b['layers.3.ffn.w1.weight']!));
    expect(Array.from(a['layers.3.ffn.w1.weight']!)).not.toEqual(Array.from(c['layers.3.ffn.w1.weight']!));
  });

  it('follows the documented scheme: N(0, 0.02²), residual projections scaled by 1/sqrt(2L), gains 1', () => {
    const w = initParameters(config, { seed: 1, dtype: 'float64' });
    const std = (x: ArrayLike<number>): number => {
      let s = 0, s2 = 0;
      for (let i = 0; i < x.length; i++) {
        s += x[i]!;
        s2 += x[i]! ** 2;
      }
      return Math.sqrt(s2 / x.length - (s / x.length) ** 2);
    };
    expect(w['layers.0.ffn.w1.weight']).toBeInstanceOf(Float64Array);
    expect(std(w['layers.0.ffn.w1.weight']!)).toBeCloseTo(0.02, 3);
    expect(std(w['layers.0.ffn.w2.weight']!) / (0.02 / Math.sqrt(16))).toBeCloseTo(1, 1);
    expect(Array.from(w['layers.7.ln2.weight']!).every((g) => g === 1)).toBe(true);
  });
});
