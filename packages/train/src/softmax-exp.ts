/**
 * exp(x) for x ≤ 0 from +, −, ×, floor and a table of powers of two: the exponential generate()'s
 * softmax uses, on the host (this function) and in the decode loop's graph (sampling-graph.ts, the same
 * operations as ONNX nodes). Every step is one IEEE-754 double operation, so both sides get the same
 * bits; Math.exp and ORT's Exp are each accurate to about an ulp but not equal to each other, and one
 * ulp is enough to move a sample whose uniform falls on a boundary.
 *
 * Cody–Waite reduction x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in a high part with trailing zero
 * bits, so n·LN2_HI is exact, and a low part), a degree-13 Taylor polynomial in r by Horner's rule
 * (truncation below 1e-17 relative), then × 2^n from the table. Within 2 ulps of Math.exp
 * (softmax-exp.test.ts); x is clamped to [−1100, 0], below which exp underflows to 0 anyway.
 */

export const SOFTMAX_EXP_MIN = -1100;
export const LOG2E = 1.4426950408889634;
/** fdlibm's split of ln 2: 32 significant bits, then the rest. */
export const LN2_HI = 6.93147180369123816490e-1;
export const LN2_LO = 1.90821492927058770002e-10;

/** 1/k! for k = 0..13, the Taylor coefficients of exp. */
export const EXP_COEFFICIENTS: readonly number[] = Object.freeze(Array.from({ length: 14 }, (_, k) => {
  let factorial = 1;
  for (let i = 2; i <= k; i++) factorial *= i; // exact: 13! < 2^53
  return 1 / factorial;
}));

/** 2^−k for k = 0..1600 (exact by halving; 0 past 2^−1074). Index −n, n = round(x·log2 e) ≥ −1587. */
export const NEGATIVE_POWERS_OF_TWO: Float64Array = (() => {
  const table = new Float64Array(1601);
  let value = 1;
  for (let k = 0; k < table.length; k++, value /= 2) table[k] = value;
  return table;
})();

const [C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13] = EXP_COEFFICIENTS as [number, number, number, number, number, number, number, number, number, number, number, number, number, number];

export function softmaxExp(x: number): number {
  const clamped = Math.min(Math.max(x, SOFTMAX_EXP_MIN), 0);
  const n = Math.floor(clamped * LOG2E + 0.5);
  const r = clamped - n * LN2_HI - n * LN2_LO;
  // Horner's rule written out (a loop over the coefficient array ran 6× slower than Math.exp).
  const p = ((((((((((((C13 * r + C12) * r + C11) * r + C10) * r + C9) * r + C8) * r + C7) * r + C6) * r + C5) * r + C4) * r + C3) * r + C2) * r + C1) * r + C0;
  return p * NEGATIVE_POWERS_OF_TWO[-n]!;
}
