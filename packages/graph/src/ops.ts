/**
 * One function per ONNX op (opset 18), named in camelCase after its op type.
 *
 * Each function infers the output dtype and shape at build time and throws with the node's name
 * when inputs cannot work ("MatMul (node MatMul_2): [B,T,512] x [256,64] — inner dims differ").
 * The Value knows its graph, so no builder is passed; a node goes to the innermost graph among its
 * inputs (a Loop body when it uses a body value). Binary ops accept a number on either side, which
 * becomes a scalar constant of the other side's dtype.
 */
import { broadcastShapes, normalizeAxis } from './broadcast.js';
import type { GraphBuilder, NodeAttribute, OutputSpec } from './graph-builder.js';
import { graphOf } from './graph-builder.js';
import type { DType, Dim, HostTensor, Value } from './value.js';
import { ONNX_ELEMENT_TYPE, formatShape, hostTensor, isFloatDType, isStaticShape, toNumbers } from './value.js';

export type Operand = Value | number;

/** Large enough to mean "to the end" for Slice ends (INT64_MAX would not survive a JS number). */
export const SLICE_END = 2 ** 53 - 1;

interface OpContext {
  g: GraphBuilder;
  /** 'MatMul (node blocks.0/MatMul_2)' — the prefix of every build-time error. */
  where: string;
}

function context(opType: string, inputs: readonly Value[]): OpContext {
  const g = graphOf(inputs, opType);
  return { g, where: `${opType} (node ${g.peekNodeName(opType)})` };
}

function emit(ctx: OpContext, opType: string, inputs: readonly Value[], outputs: readonly OutputSpec[], attributes: Record<string, NodeAttribute> = {}): Value[] {
  return ctx.g.addNode(opType, inputs, outputs, attributes);
}

function first(values: Value[]): Value {
  return values[0] as Value;
}

function toValues(opType: string, a: Operand, b: Operand): [Value, Value] {
  if (typeof a === 'number' && typeof b === 'number') throw new Error(`${opType}: at least one operand must be a Value, got two numbers`);
  const x = typeof a === 'number' ? (b as Value).graph.constant(scalarTensor((b as Value).dtype, a)) : a;
  const y = typeof b === 'number' ? x.graph.constant(scalarTensor(x.dtype, b)) : b;
  return [x, y];
}

function scalarTensor(dtype: DType, value: number): HostTensor {
  if (dtype === 'bool') return hostTensor('bool', [], [value ? 1 : 0]);
  return hostTensor(dtype, [], [value]);
}

/** An int64 1-D constant, e.g. axes or a static shape. */
export function int64s(g: GraphBuilder, values: readonly number[]): Value {
  return g.constant(hostTensor('int64', [values.length], [...values]));
}

function requireSameDType(ctx: OpContext, values: readonly Value[]): DType {
  const dtype = (values[0] as Value).dtype;
  for (const v of values) {
    if (v.dtype !== dtype) {
      throw new Error(`${ctx.where}: dtype mismatch ${values.map((x) => x.dtype).join(' vs ')} — cast one side with cast(x, '${dtype}')`);
    }
  }
  return dtype;
}

function requireFloat(ctx: OpContext, x: Value): void {
  if (!isFloatDType(x.dtype)) throw new Error(`${ctx.where}: needs a float tensor, got ${x.dtype} "${x.name}"; cast it with cast(x, 'float32')`);
}

function requireDType(ctx: OpContext, x: Value, allowed: readonly DType[], role: string): void {
  if (!allowed.includes(x.dtype)) throw new Error(`${ctx.where}: ${role} must be ${allowed.join(' or ')}, got ${x.dtype} "${x.name}"`);
}

function elementwise(opType: string, a: Operand, b: Operand, resultDType?: DType): Value {
  const [x, y] = toValues(opType, a, b);
  const ctx = context(opType, [x, y]);
  const dtype = requireSameDType(ctx, [x, y]);
  const shape = broadcastShapes(x.shape, y.shape, ctx.where, () => ctx.g.unknownDim());
  return first(emit(ctx, opType, [x, y], [{ dtype: resultDType ?? dtype, shape }]));
}

function unary(opType: string, x: Value, floatOnly = true): Value {
  const ctx = context(opType, [x]);
  if (floatOnly) requireFloat(ctx, x);
  return first(emit(ctx, opType, [x], [{ dtype: x.dtype, shape: x.shape }]));
}

// ---- elementwise arithmetic ----
export const add = (a: Operand, b: Operand): Value => elementwise('Add', a, b);
export const sub = (a: Operand, b: Operand): Value => elementwise('Sub', a, b);
export const mul = (a: Operand, b: Operand): Value => elementwise('Mul', a, b);
export const div = (a: Operand, b: Operand): Value => elementwise('Div', a, b);
export const max = (a: Operand, b: Operand): Value => elementwise('Max', a, b);
export const min = (a: Operand, b: Operand): Value => elementwise('Min', a, b);
export const equal = (a: Operand, b: Operand): Value => elementwise('Equal', a, b, 'bool');
export const less = (a: Operand, b: Operand): Value => elementwise('Less', a, b, 'bool');
export const greater = (a: Operand, b: Operand): Value => elementwise('Greater', a, b, 'bool');

/** x ** y; the exponent may have another numeric dtype (ONNX Pow allows it). */
export function pow(a: Operand, b: Operand): Value {
  const [x, y] = toValues('Pow', a, b);
  const ctx = context('Pow', [x, y]);
  requireFloat(ctx, x);
  const shape = broadcastShapes(x.shape, y.shape, ctx.where, () => ctx.g.unknownDim());
  return first(emit(ctx, 'Pow', [x, y], [{ dtype: x.dtype, shape }]));
}

/** Elementwise sum of any number of tensors (broadcasting). */
export function sum(xs: readonly Value[]): Value {
  if (xs.length === 0) throw new Error('Sum: needs at least one input');
  const ctx = context('Sum', xs);
  const dtype = requireSameDType(ctx, xs);
  let shape: Dim[] = [...(xs[0] as Value).shape];
  for (const x of xs.slice(1)) shape = broadcastShapes(shape, x.shape, ctx.where, () => ctx.g.unknownDim());
  return first(emit(ctx, 'Sum', xs, [{ dtype, shape }]));
}

// ---- elementwise functions ----
export const neg = (x: Value): Value => unary('Neg', x, false);
export const abs = (x: Value): Value => unary('Abs', x, false);
export const sign = (x: Value): Value => unary('Sign', x, false);
export const relu = (x: Value): Value => unary('Relu', x);
export const sqrt = (x: Value): Value => unary('Sqrt', x);
export const reciprocal = (x: Value): Value => unary('Reciprocal', x);
export const exp = (x: Value): Value => unary('Exp', x);
export const floor = (x: Value): Value => unary('Floor', x);
export const log = (x: Value): Value => unary('Log', x);
export const erf = (x: Value): Value => unary('Erf', x);
export const tanh = (x: Value): Value => unary('Tanh', x);
export const sigmoid = (x: Value): Value => unary('Sigmoid', x);
export const identity = (x: Value): Value => unary('Identity', x, false);

export function not(x: Value): Value {
  const ctx = context('Not', [x]);
  requireDType(ctx, x, ['bool'], 'input');
  return first(emit(ctx, 'Not', [x], [{ dtype: 'bool', shape: x.shape }]));
}

export function cast(x: Value, dtype: DType): Value {
  if (x.dtype === dtype) return x;
  const ctx = context('Cast', [x]);
  return first(emit(ctx, 'Cast', [x], [{ dtype, shape: x.shape }], { to: ONNX_ELEMENT_TYPE[dtype] }));
}

/** cond ? a : b, elementwise with broadcasting over all three. */
export function where(cond: Value, a: Operand, b: Operand): Value {
  const [x, y] = toValues('Where', a, b);
  const ctx = context('Where', [cond, x, y]);
  requireDType(ctx, cond, ['bool'], 'condition');
  const dtype = requireSameDType(ctx, [x, y]);
  const unknown = () => ctx.g.unknownDim();
  const shape = broadcastShapes(broadcastShapes(cond.shape, x.shape, ctx.where, unknown), y.shape, ctx.where, unknown);
  return first(emit(ctx, 'Where', [cond, x, y], [{ dtype, shape }]));
}

// ---- linear algebra ----

/** Batched, broadcasting matrix product (numpy matmul semantics, including 1-D operands). */
export function matMul(a: Value, b: Value): Value {
  const ctx = context('MatMul', [a, b]);
  const dtype = requireSameDType(ctx, [a, b]);
  if (a.shape.length === 0 || b.shape.length === 0) throw new Error(`${ctx.where}: operands must have rank ≥ 1, got ${formatShape(a.shape)} x ${formatShape(b.shape)}`);
  const aShape = a.shape.length === 1 ? [1, ...a.shape] : a.shape;
  const bShape = b.shape.length === 1 ? [...b.shape, 1] : b.shape;
  const k1 = aShape[aShape.length - 1] as Dim;
  const k2 = bShape[bShape.length - 2] as Dim;
  if (typeof k1 === 'number' && typeof k2 === 'number' && k1 !== k2) {
    throw new Error(`${ctx.where}: ${formatShape(a.shape)} x ${formatShape(b.shape)} — inner dims differ (${k1} vs ${k2})`);
  }
  const batch = broadcastShapes(aShape.slice(0, -2), bShape.slice(0, -2), ctx.where, () => ctx.g.unknownDim());
  const shape: Dim[] = [...batch];
  if (a.shape.length > 1) shape.push(aShape[aShape.length - 2] as Dim);
  if (b.shape.length > 1) shape.push(bShape[bShape.length - 1] as Dim);
  return first(emit(ctx, 'MatMul', [a, b], [{ dtype, shape }]));
}

/** Permutes axes; `perm` defaults to reversing them. */
export function transpose(x: Value, perm?: readonly number[]): Value {
  const ctx = context('Transpose', [x]);
  const rank = x.shape.length;
  const p = perm ? perm.map((a) => normalizeAxis(a, rank, ctx.where)) : x.shape.map((_, i) => rank - 1 - i);
  if (p.length !== rank || new Set(p).size !== rank) throw new Error(`${ctx.where}: perm [${perm?.join(',')}] is not a permutation of ${rank} axes`);
  if (p.every((axis, i) => axis === i)) return x;
  // Transpose of a Transpose is one Transpose of the original (or the original itself): gradients of
  // x Wᵀ produce such pairs, and folding them here keeps the backward graph free of copies.
  const inner = x.graph.producerOf(x)?.node;
  if (inner?.opType === 'Transpose') {
    const innerPerm = inner.attributes.perm as number[];
    return transpose(inner.inputs[0] as Value, p.map((axis) => innerPerm[axis] as number));
  }
  return first(emit(ctx, 'Transpose', [x], [{ dtype: x.dtype, shape: p.map((i) => x.shape[i] as Dim) }], { perm: p }));
}

// ---- shapes ----

/** int64 tensor [rank] with the run-time shape of x (optionally axes start..end). */
export function shape(x: Value, start?: number, end?: number): Value {
  const ctx = context('Shape', [x]);
  const rank = x.shape.length;
  const s = start === undefined ? 0 : start < 0 ? start + rank : start;
  const e = end === undefined ? rank : end < 0 ? end + rank : end;
  return first(emit(ctx, 'Shape', [x], [{ dtype: 'int64', shape: [Math.max(0, e - s)] }], { start, end }));
}

/**
 * A 1-D int64 tensor for `dims`. Static dims become a constant; a symbolic dim is read at run time
 * from the first of `sources` whose shape has that name at some axis.
 */
export function shapeTensor(g: GraphBuilder, dims: readonly Dim[], sources: readonly Value[], where = 'shape'): Value {
  if (isStaticShape(dims)) return int64s(g, dims);
  const result = buildShapeTensor(g, dims, sources, where);
  shapeTensorDims.set(result, [...dims]);
  return result;
}

/** Dims that a shapeTensor() result stands for, so ops fed with it keep symbolic names. */
const shapeTensorDims = new WeakMap<Value, readonly Dim[]>();

function buildShapeTensor(g: GraphBuilder, dims: readonly Dim[], sources: readonly Value[], where: string): Value {
  const pieces: Value[] = [];
  let run: number[] = [];
  const flush = () => {
    if (run.length) pieces.push(int64s(g, run));
    run = [];
  };
  for (const d of dims) {
    if (typeof d === 'number') {
      run.push(d);
      continue;
    }
    flush();
    const source = sources.find((v) => v.shape.includes(d));
    if (!source) throw new Error(`${where}: symbolic dim '${d}' is not a dim of any input (${sources.map((v) => formatShape(v.shape)).join(', ')}); pass a number or a shape Value`);
    const axis = source.shape.indexOf(d);
    pieces.push(shape(source, axis, axis + 1));
  }
  flush();
  return pieces.length === 1 ? (pieces[0] as Value) : concat(pieces, 0);
}

/**
 * What a 1-D int64 shape Value is known to hold: its numbers when it is a constant, or the shape of
 * v when it is Shape(v) over all axes (so expand(dy, shape(x)) keeps x's symbolic dims).
 */
function knownDims(v: Value): readonly Dim[] | undefined {
  const data = v.graph.constantData(v);
  if (data) return toNumbers(data);
  const recorded = shapeTensorDims.get(v);
  if (recorded) return recorded;
  const producer = v.graph.producerOf(v)?.node;
  if (producer?.opType === 'Shape' && producer.attributes.start === undefined && producer.attributes.end === undefined) {
    return (producer.inputs[0] as Value).shape;
  }
  return undefined;
}

/**
 * The target shape of Reshape/Expand as dims for shape inference plus the int64 shape input:
 * from an array (symbolic names resolved against x) or from a 1-D int64 Value of static length.
 */
function shapeArgument(ctx: OpContext, x: Value, target: readonly Dim[] | Value): { dims: readonly Dim[]; shapeValue: Value } {
  if (Array.isArray(target)) return { dims: target as readonly Dim[], shapeValue: shapeTensor(ctx.g, target as readonly Dim[], [x], ctx.where) };
  const shapeValue = target as Value;
  requireDType(ctx, shapeValue, ['int64'], 'shape');
  const length = shapeValue.shape[0];
  if (shapeValue.shape.length !== 1 || typeof length !== 'number') {
    throw new Error(`${ctx.where}: shape Value must be 1-D with a static length, got ${formatShape(shapeValue.shape)}`);
  }
  return { dims: knownDims(shapeValue) ?? Array.from({ length }, () => ctx.g.unknownDim()), shapeValue };
}

/**
 * Reshape to `target`: numbers (-1 infers one dim, 0 copies the input dim), symbolic names taken
 * from x's own shape, or an int64 shape Value.
 */
export function reshape(x: Value, target: readonly Dim[] | Value): Value {
  const ctx = context('Reshape', [x]);
  const { dims, shapeValue } = shapeArgument(ctx, x, target);
  const out: Dim[] = dims.map((d, i) => (d === 0 ? ((x.shape[i] ?? 0) as Dim) : d));
  const inferred = out.indexOf(-1);
  if (out.filter((d) => d === -1).length > 1) throw new Error(`${ctx.where}: at most one -1 in target ${formatShape(dims)}`);
  if (isStaticShape(x.shape)) {
    const total = staticProduct(x.shape) as number;
    const product = staticProduct(out.filter((d) => d !== -1));
    if (product !== undefined) {
      if (inferred >= 0) {
        if (product === 0 || total % product !== 0) throw new Error(`${ctx.where}: cannot reshape ${formatShape(x.shape)} (${total} elements) to ${formatShape(dims)}`);
        out[inferred] = total / product;
      } else if (product !== total) {
        throw new Error(`${ctx.where}: cannot reshape ${formatShape(x.shape)} (${total} elements) to ${formatShape(dims)} (${product} elements)`);
      }
    }
  }
  if (inferred >= 0 && out[inferred] === -1) out[inferred] = inferReshapeDim(x.shape, out, inferred) ?? ctx.g.unknownDim();
  return first(emit(ctx, 'Reshape', [x, shapeValue], [{ dtype: x.dtype, shape: out }]));
}

/** Cancels symbolic factors: [B,T,64] → [-1,64] gives B*T only as unknown, but [B,T,64] → [B,-1] gives T*64 when static. */
function inferReshapeDim(input: readonly Dim[], out: readonly Dim[], at: number): Dim | undefined {
  const remaining = [...input];
  let product = 1;
  for (let i = 0; i < out.length; i++) {
    if (i === at) continue;
    const d = out[i] as Dim;
    const j = remaining.indexOf(d);
    if (j >= 0) remaining.splice(j, 1);
    else if (typeof d === 'number') product *= d;
    else return undefined;
  }
  if (remaining.length === 1 && product === 1) return remaining[0];
  const total = staticProduct(remaining);
  return total !== undefined && total % product === 0 ? total / product : undefined;
}

/** Product of the dims, or undefined when one is symbolic. */
export function staticProduct(dims: readonly Dim[]): number | undefined {
  let product = 1;
  for (const d of dims) {
    if (typeof d !== 'number') return undefined;
    product *= d;
  }
  return product;
}

/** Inserts size-1 axes at `axes` (positions in the output). */
export function unsqueeze(x: Value, axes: readonly number[]): Value {
  const ctx = context('Unsqueeze', [x]);
  const rank = x.shape.length + axes.length;
  const normalized = axes.map((a) => normalizeAxis(a, rank, ctx.where));
  if (new Set(normalized).size !== normalized.length) throw new Error(`${ctx.where}: repeated axis in [${axes.join(',')}]`);
  const out: Dim[] = [];
  let next = 0;
  for (let i = 0; i < rank; i++) out.push(normalized.includes(i) ? 1 : (x.shape[next++] as Dim));
  return first(emit(ctx, 'Unsqueeze', [x, int64s(ctx.g, normalized)], [{ dtype: x.dtype, shape: out }]));
}

/** Removes size-1 axes. */
export function squeeze(x: Value, axes: readonly number[]): Value {
  const ctx = context('Squeeze', [x]);
  const normalized = axes.map((a) => normalizeAxis(a, x.shape.length, ctx.where));
  for (const a of normalized) {
    const d = x.shape[a];
    if (typeof d === 'number' && d !== 1) throw new Error(`${ctx.where}: axis ${a} of ${formatShape(x.shape)} has size ${d}, not 1`);
  }
  const out = x.shape.filter((_, i) => !normalized.includes(i));
  return first(emit(ctx, 'Squeeze', [x, int64s(ctx.g, normalized)], [{ dtype: x.dtype, shape: out }]));
}

export function concat(xs: readonly Value[], axis: number): Value {
  if (xs.length === 0) throw new Error('Concat: needs at least one input');
  const ctx = context('Concat', xs);
  const dtype = requireSameDType(ctx, xs);
  const head = xs[0] as Value;
  const rank = head.shape.length;
  const a = normalizeAxis(axis, rank, ctx.where);
  let along: Dim = 0;
  for (const x of xs) {
    if (x.shape.length !== rank) throw new Error(`${ctx.where}: ranks differ (${xs.map((v) => formatShape(v.shape)).join(', ')})`);
    x.shape.forEach((d, i) => {
      const h = head.shape[i] as Dim;
      if (i !== a && typeof d === 'number' && typeof h === 'number' && d !== h) {
        throw new Error(`${ctx.where}: dim ${i} differs (${xs.map((v) => formatShape(v.shape)).join(', ')}); only axis ${a} may differ`);
      }
    });
    const d = x.shape[a] as Dim;
    along = typeof along === 'number' && typeof d === 'number' ? along + d : '';
  }
  const out = [...head.shape];
  out[a] = along === '' ? ctx.g.unknownDim() : along;
  return first(emit(ctx, 'Concat', xs, [{ dtype, shape: out }], { axis: a }));
}

/** Output length of one sliced axis, or undefined when it depends on a symbolic size. */
export function sliceLength(size: Dim, start: number, end: number, step: number): Dim | undefined {
  // With a symbolic size only "the whole axis" has a known length.
  if (typeof size !== 'number') return step === 1 && start === 0 && end >= SLICE_END ? size : undefined;
  if (step > 0) {
    const s = Math.min(Math.max(start < 0 ? start + size : start, 0), size);
    const e = Math.min(Math.max(end < 0 ? end + size : end, 0), size);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  const s = Math.min(Math.max(start < 0 ? start + size : start, 0), size - 1);
  const e = Math.min(Math.max(end < 0 ? end + size : end, -1), size - 1);
  return Math.max(0, Math.ceil((s - e) / -step));
}

/** numpy-style x[starts:ends:steps] along `axes` (default 0..n-1). Use SLICE_END for "to the end". */
export function slice(x: Value, starts: readonly number[], ends: readonly number[], axes?: readonly number[], steps?: readonly number[]): Value {
  const ctx = context('Slice', [x]);
  const rank = x.shape.length;
  const ax = (axes ?? starts.map((_, i) => i)).map((a) => normalizeAxis(a, rank, ctx.where));
  const st = steps ?? starts.map(() => 1);
  if (ends.length !== starts.length || ax.length !== starts.length || st.length !== starts.length) {
    throw new Error(`${ctx.where}: starts, ends, axes and steps must have the same length`);
  }
  if (st.some((s) => s === 0)) throw new Error(`${ctx.where}: steps must be non-zero`);
  const out: Dim[] = [...x.shape];
  ax.forEach((a, i) => {
    out[a] = sliceLength(x.shape[a] as Dim, starts[i] as number, ends[i] as number, st[i] as number) ?? ctx.g.unknownDim();
  });
  const inputs = [x, int64s(ctx.g, starts), int64s(ctx.g, ends), int64s(ctx.g, ax), int64s(ctx.g, st)];
  return first(emit(ctx, 'Slice', inputs, [{ dtype: x.dtype, shape: out }]));
}

/** Broadcasts x to `target` (numpy rules; the result may be larger than target where x is). */
export function expand(x: Value, target: readonly Dim[] | Value): Value {
  const ctx = context('Expand', [x]);
  const { dims, shapeValue } = shapeArgument(ctx, x, target);
  const out = broadcastShapes(x.shape, dims, ctx.where, () => ctx.g.unknownDim());
  return first(emit(ctx, 'Expand', [x, shapeValue], [{ dtype: x.dtype, shape: out }]));
}

/** Zero-padding (mode 'constant'): `pads` = [begin_0, ..., begin_n, end_0, ..., end_n]. */
export function pad(x: Value, pads: readonly number[]): Value {
  const ctx = context('Pad', [x]);
  const rank = x.shape.length;
  if (pads.length !== 2 * rank) throw new Error(`${ctx.where}: pads needs ${2 * rank} numbers for rank ${rank}, got ${pads.length}`);
  const out = x.shape.map((d, i) => (typeof d === 'number' ? d + (pads[i] as number) + (pads[i + rank] as number) : pads[i] === 0 && pads[i + rank] === 0 ? d : ctx.g.unknownDim()));
  return first(emit(ctx, 'Pad', [x, int64s(ctx.g, pads)], [{ dtype: x.dtype, shape: out }], { mode: 'constant' }));
}

/** A tensor of `shapeValue` (1-D int64) filled with `value`. */
export function constantOfShape(shapeValue: Value, value: number, dtype: DType): Value {
  const ctx = context('ConstantOfShape', [shapeValue]);
  requireDType(ctx, shapeValue, ['int64'], 'shape');
  const length = shapeValue.shape[0];
  if (typeof length !== 'number') throw new Error(`${ctx.where}: shape Value needs a static length`);
  const dims = knownDims(shapeValue) ?? Array.from({ length }, () => ctx.g.unknownDim());
  return first(emit(ctx, 'ConstantOfShape', [shapeValue], [{ dtype, shape: dims }], { value: scalarTensor1(dtype, value) }));
}

function scalarTensor1(dtype: DType, value: number): HostTensor {
  // ConstantOfShape's value attribute is a one-element 1-D tensor.
  return hostTensor(dtype, [1], dtype === 'bool' ? [value ? 1 : 0] : [value]);
}

// ---- indexing ----

/** Takes slices of `data` along `axis` at `indices`: out = data[:axis] + indices.shape + data[axis+1:]. */
export function gather(data: Value, indices: Value, axis = 0): Value {
  const ctx = context('Gather', [data, indices]);
  requireDType(ctx, indices, ['int64', 'int32'], 'indices');
  const a = normalizeAxis(axis, data.shape.length, ctx.where);
  const out = [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)];
  return first(emit(ctx, 'Gather', [data, indices], [{ dtype: data.dtype, shape: out }], { axis: a }));
}

/** out[i][j] = data[indices[i][j]][j] for axis 0 (and likewise per axis); out has indices' shape. */
export function gatherElements(data: Value, indices: Value, axis: number): Value {
  const ctx = context('GatherElements', [data, indices]);
  requireDType(ctx, indices, ['int64', 'int32'], 'indices');
  if (indices.shape.length !== data.shape.length) throw new Error(`${ctx.where}: data ${formatShape(data.shape)} and indices ${formatShape(indices.shape)} need the same rank`);
  const a = normalizeAxis(axis, data.shape.length, ctx.where);
  return first(emit(ctx, 'GatherElements', [data, indices], [{ dtype: data.dtype, shape: indices.shape }], { axis: a }));
}

export type ScatterReduction = 'none' | 'add' | 'mul' | 'max' | 'min';

/** Copy of `data` with `updates` written (or reduced) at `indices` along `axis`. */
export function scatterElements(data: Value, indices: Value, updates: Value, axis: number, reduction: ScatterReduction = 'none'): Value {
  const ctx = context('ScatterElements', [data, indices, updates]);
  requireDType(ctx, indices, ['int64', 'int32'], 'indices');
  requireSameDType(ctx, [data, updates]);
  const a = normalizeAxis(axis, data.shape.length, ctx.where);
  return first(emit(ctx, 'ScatterElements', [data, indices, updates], [{ dtype: data.dtype, shape: data.shape }], { axis: a, reduction }));
}

/** Copy of `data` with slices `updates` written (or reduced) at index tuples `indices` [..., k]. */
export function scatterND(data: Value, indices: Value, updates: Value, reduction: ScatterReduction = 'none'): Value {
  const ctx = context('ScatterND', [data, indices, updates]);
  requireDType(ctx, indices, ['int64'], 'indices');
  requireSameDType(ctx, [data, updates]);
  return first(emit(ctx, 'ScatterND', [data, indices, updates], [{ dtype: data.dtype, shape: data.shape }], { reduction }));
}

/** One-hot vectors of length `depth` inserted at `axis` (default last), 0/1 in `dtype`. */
export function oneHot(indices: Value, depth: number, dtype: DType = 'float32', axis = -1): Value {
  const ctx = context('OneHot', [indices]);
  requireDType(ctx, indices, ['int64', 'int32'], 'indices');
  const rank = indices.shape.length + 1;
  const a = normalizeAxis(axis, rank, ctx.where);
  const out: Dim[] = [...indices.shape];
  out.splice(a, 0, depth);
  const inputs = [indices, ctx.g.constant(hostTensor('int64', [], [depth])), ctx.g.constant(hostTensor(dtype, [2], [0, 1]))];
  return first(emit(ctx, 'OneHot', inputs, [{ dtype, shape: out }], { axis: a }));
}

// ---- reductions and normalizers ----

function reduce(opType: string, x: Value, axes: readonly number[] | undefined, keepdims: boolean): Value {
  const ctx = context(opType, [x]);
  const rank = x.shape.length;
  const ax = axes === undefined || axes.length === 0 ? x.shape.map((_, i) => i) : axes.map((a) => normalizeAxis(a, rank, ctx.where));
  const out: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!ax.includes(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return first(emit(ctx, opType, [x, int64s(ctx.g, ax)], [{ dtype: x.dtype, shape: out }], { keepdims: keepdims ? 1 : 0 }));
}

/** Sum over `axes` (all axes when omitted or empty). */
export const reduceSum = (x: Value, axes?: readonly number[], keepdims = true): Value => reduce('ReduceSum', x, axes, keepdims);
export const reduceMean = (x: Value, axes?: readonly number[], keepdims = true): Value => reduce('ReduceMean', x, axes, keepdims);
export const reduceMax = (x: Value, axes?: readonly number[], keepdims = true): Value => reduce('ReduceMax', x, axes, keepdims);

/** Index (int64) of the largest value along `axis`: the first one on ties, the last with selectLastIndex. */
export function argMax(x: Value, axis = -1, keepdims = true, selectLastIndex = false): Value {
  const ctx = context('ArgMax', [x]);
  const a = normalizeAxis(axis, x.shape.length, ctx.where);
  const out: Dim[] = x.shape.flatMap((d, i) => (i !== a ? [d] : keepdims ? [1] : []));
  return first(emit(ctx, 'ArgMax', [x], [{ dtype: 'int64', shape: out }], { axis: a, keepdims: keepdims ? 1 : 0, select_last_index: selectLastIndex ? 1 : 0 }));
}

/** Running sum along `axis`, in index order: out[i] = x[0] + … + x[i]. */
export function cumSum(x: Value, axis = -1): Value {
  const ctx = context('CumSum', [x]);
  const a = normalizeAxis(axis, x.shape.length, ctx.where);
  return first(emit(ctx, 'CumSum', [x, ctx.g.constant(hostTensor('int64', [], [a]))], [{ dtype: x.dtype, shape: x.shape }]));
}

/**
 * The k largest values along `axis`, sorted descending, and their indices (int64). ONNX breaks ties
 * by index: of equal values the lower index comes first. k is a number or a run-time int64 [1].
 */
export function topK(x: Value, k: number | Value, axis = -1): { values: Value; indices: Value } {
  const ctx = context('TopK', typeof k === 'number' ? [x] : [x, k]);
  const a = normalizeAxis(axis, x.shape.length, ctx.where);
  const length = x.shape[a];
  if (typeof k === 'number' && (!Number.isInteger(k) || k < 1 || (typeof length === 'number' && k > length))) throw new Error(`${ctx.where}: k = ${k} must be an integer in [1, ${String(length)}]`);
  if (typeof k !== 'number' && (k.dtype !== 'int64' || k.shape.length !== 1 || k.shape[0] !== 1)) throw new Error(`${ctx.where}: a run-time k must be int64 [1], got ${k.dtype}${formatShape(k.shape)}`);
  const kDim = typeof k === 'number' ? k : ctx.g.unknownDim();
  const out = x.shape.map((d, i) => (i === a ? kDim : d));
  const kValue = typeof k === 'number' ? ctx.g.constant(hostTensor('int64', [1], [k])) : k;
  const [values, indices] = emit(ctx, 'TopK', [x, kValue], [{ dtype: x.dtype, shape: out }, { dtype: 'int64', shape: out }], { axis: a, largest: 1, sorted: 1 });
  return { values: values as Value, indices: indices as Value };
}

function normalizer(opType: string, x: Value, axis: number): Value {
  const ctx = context(opType, [x]);
  requireFloat(ctx, x);
  const a = normalizeAxis(axis, x.shape.length, ctx.where);
  return first(emit(ctx, opType, [x], [{ dtype: x.dtype, shape: x.shape }], { axis: a }));
}
export const softmax = (x: Value, axis = -1): Value => normalizer('Softmax', x, axis);
export const logSoftmax = (x: Value, axis = -1): Value => normalizer('LogSoftmax', x, axis);

// ---- masks and randomness ----

/** Keeps the upper (or lower) triangle of the last two axes, shifted by diagonal offset k. */
export function trilu(x: Value, upper: boolean, k = 0): Value {
  const ctx = context('Trilu', [x]);
  if (x.shape.length < 2) throw new Error(`${ctx.where}: needs rank ≥ 2, got ${formatShape(x.shape)}`);
  const kValue = ctx.g.constant(hostTensor('int64', [], [k]));
  return first(emit(ctx, 'Trilu', [x, kValue], [{ dtype: x.dtype, shape: x.shape }], { upper: upper ? 1 : 0 }));
}

/**
 * Inverted dropout: in training, zeroes each element with probability `ratio` and scales the rest
 * by 1/(1-ratio); otherwise identity. `seed` fixes ORT's generator for the session.
 */
export function dropout(x: Value, ratio: number, training: boolean, seed?: number): Value {
  const ctx = context('Dropout', [x]);
  requireFloat(ctx, x);
  if (!(ratio >= 0 && ratio < 1)) throw new Error(`${ctx.where}: ratio ${ratio} must be in [0, 1)`);
  const inputs = [x, ctx.g.constant(scalarTensor(x.dtype, ratio)), ctx.g.constant(scalarTensor('bool', training ? 1 : 0))];
  const outputs: OutputSpec[] = [
    { dtype: x.dtype, shape: x.shape },
    { dtype: 'bool', shape: x.shape },
  ];
  return first(emit(ctx, 'Dropout', inputs, outputs, { seed }));
}

// ---- helpers the gradient rules need ----

/** Number of elements of x as an int64 scalar. */
export function size(x: Value): Value {
  const ctx = context('Size', [x]);
  return first(emit(ctx, 'Size', [x], [{ dtype: 'int64', shape: [] }]));
}

/** Indices of non-zero elements, int64 [rank, count]. */
export function nonZero(x: Value): Value {
  const ctx = context('NonZero', [x]);
  return first(emit(ctx, 'NonZero', [x], [{ dtype: 'int64', shape: [x.shape.length, ctx.g.unknownDim()] }]));
}

/**
 * Sum over axes given as a run-time int64 Value, keeping dims; an empty axes tensor is a no-op
 * (unlike reduceSum, where no axes means all axes). Used to undo broadcasting of unknown extent.
 */
export function reduceSumOverAxes(x: Value, axes: Value): Value {
  const ctx = context('ReduceSum', [x, axes]);
  requireDType(ctx, axes, ['int64'], 'axes');
  const shape = x.shape.map(() => ctx.g.unknownDim());
  return first(emit(ctx, 'ReduceSum', [x, axes], [{ dtype: x.dtype, shape }], { keepdims: 1, noop_with_empty_axes: 1 }));
}

/** Splits x along `axis` into pieces of `sizes` (symbolic sizes are read from `sources` at run time). */
export function split(x: Value, sizes: readonly Dim[], axis: number, sources: readonly Value[] = [x]): Value[] {
  const ctx = context('Split', [x]);
  const a = normalizeAxis(axis, x.shape.length, ctx.where);
  const total = staticProduct(sizes) === undefined ? undefined : sizes.reduce<number>((p, d) => p + (d as number), 0);
  const along = x.shape[a] as Dim;
  if (total !== undefined && typeof along === 'number' && total !== along) {
    throw new Error(`${ctx.where}: sizes [${sizes.join(',')}] sum to ${total}, but axis ${a} of ${formatShape(x.shape)} has ${along}`);
  }
  const sizesValue = shapeTensor(ctx.g, sizes, sources, ctx.where);
  const outputs = sizes.map((d) => ({ dtype: x.dtype, shape: x.shape.map((xd, i) => (i === a ? d : xd)) }));
  return emit(ctx, 'Split', [x, sizesValue], outputs, { axis: a });
}
