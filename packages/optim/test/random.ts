/** Small seeded generators for tests (mulberry32 + Box–Muller), so inputs are reproducible without fixtures. */
import { seededUniform } from '../../../test-support/random.js';

export { seededUniform };

export function seededNormal(seed: number): () => number {
  const u = seededUniform(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

export function randomFloat64(n: number, seed: number, scale = 1): Float64Array {
  const next = seededNormal(seed);
  return Float64Array.from({ length: n }, () => next() * scale);
}
