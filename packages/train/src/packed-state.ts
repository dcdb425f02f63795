/**
 * Packing the small parameters into one flat tensor for the optimizer.
 *
 * AdamW is about a dozen elementwise ops per parameter tensor. For a 128×128 matrix or a 128-vector
 * gain each op is a few microseconds of ORT dispatch for well under a microsecond of arithmetic, and a
 * small model has dozens of such tensors (the "small" bench config: ~500 optimizer ops per step, none
 * faster with a second thread). So the tensors up to PACK_LIMIT elements travel through the training
 * Loop as one flat vector each for parameters, m and v: concatenated once before the Loop, split back
 * once after it. Per step that costs one Split (parameters out for the forward pass) and one Concat
 * (their gradients in), and AdamW and clipping see one tensor instead of dozens. The update is
 * elementwise, so packing changes no value; only the clip norm's summation order differs.
 */
import { concat, reshape, split, type Value } from '@cs336/graph';

/** Tensors at most this many elements are packed (d² for d = 256 still is; 4d·d matrices are not). */
export const PACK_LIMIT = 65_536;

export interface PackPlan {
  /** Spec indices kept as their own tensors, in order. */
  separate: number[];
  /** Spec indices packed into the flat vector, in order. */
  packed: number[];
  shapes: (readonly number[])[];
}

const count = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/** Which tensors to pack; fewer than two small ones are not worth a Concat and a Split. */
export function planPacking(shapes: readonly (readonly number[])[], limit = PACK_LIMIT): PackPlan {
  const packed = shapes.flatMap((shape, i) => (count(shape) <= limit ? [i] : []));
  const pack = packed.length >= 2 ? packed : [];
  return { separate: shapes.flatMap((_, i) => (pack.includes(i) ? [] : [i])), packed: pack, shapes: [...shapes] };
}

/** values (one per spec) → [...separate values, flat packed vector] (no flat vector when nothing is packed). */
export function pack(plan: PackPlan, values: readonly Value[]): Value[] {
  const separate = plan.separate.map((i) => values[i]!);
  if (plan.packed.length === 0) return separate;
  return [...separate, concat(plan.packed.map((i) => reshape(values[i]!, [count(plan.shapes[i]!)])), 0)];
}

/** The inverse of pack: one value per spec, in spec order. */
export function unpack(plan: PackPlan, values: readonly Value[]): Value[] {
  const out: Value[] = new Array<Value>(plan.shapes.length);
  plan.separate.forEach((i, j) => (out[i] = values[j]!));
  if (plan.packed.length > 0) {
    const parts = split(values[plan.separate.length]!, plan.packed.map((i) => count(plan.shapes[i]!)), 0);
    plan.packed.forEach((i, j) => (out[i] = reshape(parts[j]!, plan.shapes[i]!)));
  }
  return out;
}
