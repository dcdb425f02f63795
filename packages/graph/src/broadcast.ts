/**
 * Numpy-style broadcasting over partly symbolic shapes.
 *
 * Shapes align at the right; a dim of 1 stretches to the other side. Symbolic dims are compared by
 * name: 'T' and 'T' match, 'T' against 5 is taken to be 5 (checked by ORT at run time), and two
 * different names cannot be resolved statically, so the result gets a fresh unknown dim.
 */
import type { Dim } from './value.js';
import { formatShape } from './value.js';

export function broadcastShapes(a: readonly Dim[], b: readonly Dim[], what: string, unknownDim: () => string): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x === y) out.push(x);
    else if (x === 1) out.push(y);
    else if (y === 1) out.push(x);
    else if (typeof x === 'number' && typeof y === 'number') {
      throw new Error(`${what}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast (dim ${i}: ${x} vs ${y})`);
    } else if (typeof x === 'number') out.push(x);
    else if (typeof y === 'number') out.push(y);
    else out.push(unknownDim());
  }
  return out;
}

/**
 * The axes of `to` that broadcasting `from` → `to` stretched: added leading axes, and axes where
 * `from` has a static 1 and `to` does not. Returns undefined when that cannot be decided statically
 * (a symbolic dim in `from` facing a different dim in `to`); callers then compute it at run time.
 */
export function broadcastAxes(from: readonly Dim[], to: readonly Dim[]): number[] | undefined {
  if (from.length > to.length) throw new Error(`broadcastAxes: ${formatShape(from)} has more axes than ${formatShape(to)}`);
  const lead = to.length - from.length;
  const axes: number[] = [];
  for (let i = 0; i < lead; i++) axes.push(i);
  for (let i = 0; i < from.length; i++) {
    const f = from[i] as Dim;
    const t = to[lead + i] as Dim;
    if (f === t) continue;
    if (f === 1) axes.push(lead + i);
    else if (typeof f === 'number' && typeof t === 'number') {
      throw new Error(`broadcastAxes: ${formatShape(from)} does not broadcast to ${formatShape(to)}`);
    } else if (typeof f === 'string') return undefined; // 'B' could be 1 at run time
    // a static f against a symbolic t: broadcasting rules make t equal f, nothing stretched
  }
  return axes;
}

/** Normalizes a possibly negative axis against `rank`, naming the op on error. */
export function normalizeAxis(axis: number, rank: number, what: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new Error(`${what}: axis ${axis} is out of range for rank ${rank} (use -${rank}..${rank - 1})`);
  }
  return axis < 0 ? axis + rank : axis;
}
