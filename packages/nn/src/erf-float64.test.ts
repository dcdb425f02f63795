import { GraphBuilder, gradients, hostTensor, runGraph } from '@cs336/graph';
import { erfFloat64 } from './erf-float64.js';
import { erf } from './reference-transformer.js';

describe('erfFloat64 (float64 graph, elementary ops)', () => {
  const xs = Float64Array.from([
    ...Array.from({ length: 321 }, (_, i) => -8 + i * 0.05), -40, -3, -2.9999999, 3.0000001, 1e-300, -1e-12, 1e-8, 40,
  ]);

  // Run with ORT's default optimization level 'all', whose rewrites of the 45-step Horner chain cost accuracy near
  // |x| = 3 (measured: 2.7e-13 on erf, 5.3e-12 on its derivative; with optimizations disabled the forward agrees
  // with the float64 series to 1e-16). Still five orders better than taking erf through float32.
  it('matches erf to 1e-12 and its derivative 2/√π·e^(−x²) to 2e-11, across both branches', async () => {
    const g = new GraphBuilder('erf64');
    const x = g.input('x', 'float64', [xs.length]);
    const y = erfFloat64(x);
    g.output(y, 'erf');
    g.output(gradients(y, [x], g.constant(hostTensor('float64', [xs.length], new Float64Array(xs.length).fill(1))))[0]!, 'derivative');
    const out = await runGraph(g, { x: hostTensor('float64', [xs.length], xs) });
    const values = out['erf']!.data as Float64Array;
    const slopes = out['derivative']!.data as Float64Array;
    xs.forEach((v, i) => {
      // Independent anchors: A&S table values; elsewhere the series/continued-fraction reference (checked vs A&S too).
      expect(Math.abs(values[i]! - erf(v))).toBeLessThan(1e-12);
      expect(Math.abs(slopes[i]! - (2 / Math.sqrt(Math.PI)) * Math.exp(-v * v))).toBeLessThan(2e-11);
    });
    expect(values[Array.from(xs).findIndex((v) => Math.abs(v - 1) < 1e-12)]).toBeCloseTo(0.8427007929497149, 12);
    expect(values[Array.from(xs).findIndex((v) => Math.abs(v + 2) < 1e-12)]).toBeCloseTo(-0.9953222650189527, 12);
  });

  it('rejects float32 input', () => {
    const g = new GraphBuilder('erf32');
    expect(() => erfFloat64(g.input('x', 'float32', [2]))).toThrow(/expects a float64 tensor, got float32/);
  });
});
