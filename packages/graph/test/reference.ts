/**
 * Plain-TypeScript references for tests: a seeded generator, strided index helpers and naive
 * versions of broadcasting and matmul written independently of ONNX Runtime.
 */
import { seededUniform } from '../../../test-support/random.js';
/** Uniform [0, 1) generator for test data. */
export const seededRandom = seededUniform;

export function randomArray(n: number, seed: number, low = -1, high = 1): number[] {
  const r = seededRandom(seed);
  return Array.from({ length: n }, () => low + (high - low) * r());
}

export function size(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = (s[i + 1] as number) * (dims[i + 1] as number);
  return s;
}

export function unravel(index: number, dims: readonly number[]): number[] {
  const out = new Array<number>(dims.length).fill(0);
  for (let i = dims.length - 1; i >= 0; i--) {
    const d = dims[i] as number;
    out[i] = index % d;
    index = Math.floor(index / d);
  }
  return out;
}

/** Flat index into `dims` of the element a broadcast output coordinate reads. */
export function broadcastIndex(coord: readonly number[], dims: readonly number[]): number {
  const offset = coord.length - dims.length;
  const st = strides(dims);
  let index = 0;
  dims.forEach((d, i) => (index += (d === 1 ? 0 : (coord[offset + i] as number)) * (st[i] as number)));
  return index;
}

export function broadcastDims(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => Math.max(a[a.length - rank + i] ?? 1, b[b.length - rank + i] ?? 1));
}

export function binaryRef(aDims: number[], a: number[], bDims: number[], b: number[], f: (x: number, y: number) => number): { dims: number[]; data: number[] } {
  const dims = broadcastDims(aDims, bDims);
  const data = Array.from({ length: size(dims) }, (_, i) => {
    const c = unravel(i, dims);
    return f(a[broadcastIndex(c, aDims)] as number, b[broadcastIndex(c, bDims)] as number);
  });
  return { dims, data };
}

/** Batched matmul with broadcasting over leading dims; both operands rank ≥ 2. */
export function matMulRef(aDims: number[], a: number[], bDims: number[], b: number[]): { dims: number[]; data: number[] } {
  const m = aDims[aDims.length - 2] as number;
  const k = aDims[aDims.length - 1] as number;
  const n = bDims[bDims.length - 1] as number;
  const batch = broadcastDims(aDims.slice(0, -2), bDims.slice(0, -2));
  const dims = [...batch, m, n];
  const data = new Array<number>(size(dims)).fill(0);
  const aBatch = aDims.slice(0, -2);
  const bBatch = bDims.slice(0, -2);
  for (let p = 0; p < size(batch); p++) {
    const c = unravel(p, batch);
    const ao = broadcastIndex(c, aBatch) * m * k;
    const bo = broadcastIndex(c, bBatch) * k * n;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) s += (a[ao + i * k + t] as number) * (b[bo + t * n + j] as number);
        data[p * m * n + i * n + j] = s;
      }
  }
  return { dims, data };
}

/** erf by its Maclaurin series (converges quickly for |x| < 3), independent of any runtime. */
export function erfRef(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 60; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

export function expectClose(actual: ArrayLike<number | bigint>, expected: readonly number[], tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] as number;
    const d = Math.abs(Number(actual[i]) - e) / Math.max(1, Math.abs(e));
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  if (!(worst <= tolerance)) throw new Error(`max relative error ${worst} at ${at} (actual ${Number(actual[at])}, expected ${expected[at]}) exceeds ${tolerance}`);
}
