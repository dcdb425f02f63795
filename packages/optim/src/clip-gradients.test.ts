import { clipGradientNorm } from './clip-gradients.js';
import { randomFloat64 } from '../test/random.js';

// Reference written the other way round: the norm as sqrt of the sum of per-tensor squared norms, and the
// clipped gradient as g · min(1, maxNorm/(norm + ε)) (the course test compares against torch's clip_grad_norm_).
function referenceClip(grads: (Float64Array | null)[], maxNorm: number): { norm: number; clipped: (number[] | null)[] } {
  const perTensor = grads.map((g) => (g ? Math.hypot(...g) : 0));
  const norm = Math.hypot(...perTensor);
  const factor = Math.min(1, maxNorm / (norm + 1e-6));
  return { norm, clipped: grads.map((g) => (g ? Array.from(g, (x) => x * factor) : null)) };
}

describe('clipGradientNorm', () => {
  it('scales all gradients together when the global norm exceeds the maximum, skipping missing ones', () => {
    // Like the course test: several parameters, one of them without a gradient.
    const grads = [randomFloat64(15, 1, 3), null, randomFloat64(4, 2, 3), randomFloat64(6, 3, 3)];
    const reference = referenceClip(grads, 1e-2);
    const norm = clipGradientNorm(grads, 1e-2);
    expect(norm).toBeCloseTo(reference.norm, 12);
    grads.forEach((g, i) => {
      if (!g) return expect(reference.clipped[i]).toBeNull();
      g.forEach((x, j) => expect(x).toBeCloseTo(reference.clipped[i]![j]!, 14));
    });
    const after = Math.hypot(...grads.flatMap((g) => (g ? Array.from(g) : [])));
    expect(after).toBeLessThanOrEqual(1e-2);
    expect(after).toBeGreaterThan(1e-2 * (1 - 1e-3));
  });

  it('leaves gradients alone under the maximum', () => {
    const g = Float32Array.from([0.3, 0.4]);
    expect(clipGradientNorm([g], 1)).toBeCloseTo(0.5, 6);
    expect(Array.from(g)).toEqual([Math.fround(0.3), Math.fround(0.4)]);
  });

  it('rejects a negative maximum', () => {
    expect(() => clipGradientNorm([], -1)).toThrow(/maxNorm must be a non-negative finite number, got -1/);
  });
});
