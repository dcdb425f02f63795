import { SCALES, listExperimentSpecs, loadExperimentSpec, parseExperimentSpec, resolveVariants } from './experiment-spec.js';

const minimal = (extra: Record<string, unknown> = {}) => ({
  name: 'x', base: { model: { dModel: 32, numHeads: 2, dFf: 64, contextLength: 16 }, steps: 10, warmupSteps: 1 },
  variants: { a: { maxLearningRate: 1e-3 } }, scales: { tiny: {}, cpu: {}, handout: {} }, ...extra,
});

describe('experiment specs', () => {
  it('ships the handout\'s experiments, and every variant of every spec resolves at every scale', () => {
    expect(listExperimentSpecs()).toEqual(['batch-size', 'lr-sweep', 'no-norm', 'owt-main', 'parallel-layers', 'post-norm', 'precision', 'sgd-toy']);
    for (const name of listExperimentSpecs()) {
      const { spec } = loadExperimentSpec(name);
      expect(spec.name).toBe(name);
      for (const scale of SCALES) expect(resolveVariants(spec, scale).length).toBeGreaterThan(0);
    }
  });

  it('precision trains fp32 and fp16 variants that differ in nothing else, at every scale', () => {
    const { spec } = loadExperimentSpec('precision');
    for (const scale of SCALES) {
      const variants = resolveVariants(spec, scale);
      expect(variants.map((v) => v.train.precision)).toEqual(['fp32', 'fp16']);
      const [fp32, fp16] = variants.map((v) => ({ model: v.model, train: { ...v.train, precision: undefined, runDir: undefined } }));
      expect(fp16).toEqual(fp32);
    }
  });

  it('the batch-size sweep covers 1 to 128 (64 and 128 included) with lr(B) = lr(16)·√(B/16) and the same tokens per variant', () => {
    const { spec } = loadExperimentSpec('batch-size');
    for (const scale of ['cpu', 'handout'] as const) {
      const variants = resolveVariants(spec, scale);
      const sizes = variants.map((v) => v.train.batchSize);
      expect(Math.min(...sizes)).toBe(1);
      expect(sizes).toEqual(expect.arrayContaining([64, 128]));
      const reference = variants.find((v) => v.train.batchSize === 16)!;
      for (const v of variants) {
        expect(v.train.maxLearningRate).toBeCloseTo(reference.train.maxLearningRate * Math.sqrt(v.train.batchSize / 16), 5);
        expect(v.train.batchSize * v.train.steps).toBe(16 * reference.train.steps);
        // Validation covers the same number of sequences whatever the batch size (up to one batch).
        expect(Math.max(v.train.batchSize, v.train.batchSize * v.train.evalBatches)).toBe(Math.max(v.train.batchSize, 16 * reference.train.evalBatches));
      }
    }
  });

  it('lr-sweep spans at least three decades up to a learning rate of 1; no-norm runs at the best rate and a lower one', () => {
    const rates = resolveVariants(loadExperimentSpec('lr-sweep').spec, 'cpu').map((v) => v.train.maxLearningRate);
    expect(Math.max(...rates) / Math.min(...rates)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...rates)).toBeGreaterThanOrEqual(1);
    const noNorm = resolveVariants(loadExperimentSpec('no-norm').spec, 'cpu');
    const pre = noNorm.find((v) => v.model.norm === 'pre')!;
    const none = noNorm.filter((v) => v.model.norm === 'none').map((v) => v.train.maxLearningRate).sort((a, b) => a - b);
    expect(none[1]).toBe(pre.train.maxLearningRate);
    expect(none[0]).toBeLessThan(pre.train.maxLearningRate);
  });

  it('the SGD toy runs lr 1e1, 1e2 and 1e3 for 10 steps', () => {
    const variants = resolveVariants(loadExperimentSpec('sgd-toy').spec, 'tiny');
    expect(variants.map((v) => [v.train.maxLearningRate, v.train.steps])).toEqual([[10, 10], [100, 10], [1000, 10]]);
  });

  it('rejects unknown fields and override keys, naming them, before anything runs', () => {
    expect(() => parseExperimentSpec(minimal({ extra: 1 }))).toThrow('unknown field "extra"');
    expect(() => parseExperimentSpec(minimal({ scales: { tiny: {}, cpu: {}, handout: {}, huge: {} } }))).toThrow('unknown field "huge"');
    expect(() => parseExperimentSpec(minimal({ scales: { tiny: {}, cpu: {} } }))).toThrow('scales.handout is missing');
    expect(() => parseExperimentSpec(minimal({ divergence: { aboveStrat: 1 } }))).toThrow('unknown field "aboveStrat"');
    expect(() => parseExperimentSpec(minimal({ variants: { a: { runDir: 'x' } } }))).toThrow('"runDir" is set by the runner');
    expect(() => parseExperimentSpec(minimal({ scales: { tiny: { variants: { b: {} } }, cpu: {}, handout: {} } }))).toThrow('names "b", which is not a variant');
    const typo = parseExperimentSpec(minimal({ variants: { a: { maxLearningRat: 1e-3 } } }));
    expect(() => resolveVariants(typo, 'tiny')).toThrow(/variant "a".*unknown option --maxLearningRat/);
    const model = parseExperimentSpec(minimal({ variants: { a: { 'model.nrm': 'none' } } }));
    expect(() => resolveVariants(model, 'tiny')).toThrow(/variant "a".*unknown model field "nrm"/);
    const value = parseExperimentSpec(minimal({ variants: { a: { 'model.norm': 'sideways' } } }));
    expect(() => resolveVariants(value, 'cpu')).toThrow(/variant "a".*TransformerConfig: norm .*sideways/);
    const bad = parseExperimentSpec(minimal({ scales: { tiny: { overrides: { batchSize: 0 } }, cpu: {}, handout: {} } }));
    expect(() => resolveVariants(bad, 'tiny')).toThrow(/scale tiny.*batchSize must be at least 1/);
    expect(() => resolveVariants(bad, 'cpu')).not.toThrow();
    expect(() => loadExperimentSpec('no-such-experiment')).toThrow(/no experiment spec "no-such-experiment".*lr-sweep/);
  });
});
