/** Small seeded generators for tests (mulberry32 + Box–Muller), so inputs are reproducible without fixtures. */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seededNormal(seed: number): () => number {
  const u = seededUniform(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

export function randomFloat64(n: number, seed: number, scale = 1): Float64Array {
  const next = seededNormal(seed);
  return Float64Array.from({ length: n }, () => next() * scale);
}
