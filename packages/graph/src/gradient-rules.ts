/**
 * Vector-Jacobian product rules, one row per ONNX op type.
 *
 * A rule gets the node, its inputs and outputs, the upstream gradient of each output, and which
 * inputs need a gradient; it returns one gradient per input (undefined for inputs that take none,
 * such as indices, shapes and conditions). Results may keep the *output's* broadcast shape: the
 * walker in autodiff.ts sums them back to each input's shape in one place, so no rule undoes
 * broadcasting itself. Notation: x, y are the node's input and output, dy the upstream gradient.
 */
import type { GraphNode } from './graph-builder.js';
import * as op from './ops.js';
import type { Dim, Value } from './value.js';
import { isStaticShape, toNumbers } from './value.js';

export interface GradientContext {
  readonly node: GraphNode;
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  /** Upstream gradient per output; undefined where that output does not reach the loss. */
  readonly outputGrads: readonly (Value | undefined)[];
  /** needs[i]: input i lies on a path from a `wrt` value (skip work for the others). */
  readonly needs: readonly boolean[];
}

export type GradientRule = (ctx: GradientContext) => ReadonlyArray<Value | undefined>;

/**
 * Ops whose outputs carry no gradient: comparisons, shapes, index producers, and piecewise-constant
 * functions (Sign). The walker stops at them instead of failing.
 */
export const NOT_DIFFERENTIABLE: ReadonlySet<string> = new Set([
  'Shape',
  'Size',
  'Equal',
  'Less',
  'Greater',
  'Not',
  'Sign',
  'NonZero',
  'ConstantOfShape',
  'OneHot',
]);

/**
 * Ops whose rule is correct when dy is only broadcastable to the output (e.g. [B,T,1] standing for a
 * [B,T,d] gradient that is constant along d). For every other op the walker first expands dy to the
 * output's exact shape. (LogSoftmax is not here: it sums dy along its axis.)
 */
export const BROADCAST_SAFE: ReadonlySet<string> = new Set([
  'Identity', 'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Neg', 'Sqrt', 'Reciprocal', 'Exp', 'Log', 'Erf', 'Tanh', 'Sigmoid',
  'Relu', 'Abs', 'Max', 'Min', 'Sum', 'Cast', 'Where', 'Expand', 'Softmax', 'Dropout', 'ReduceSum', 'ReduceMean', 'ReduceMax',
]);

// ---- helpers ----

function dyOf(ctx: GradientContext): Value {
  const dy = ctx.outputGrads[0];
  if (!dy) throw new Error(`gradient of ${ctx.node.opType} (node ${ctx.node.name}): output 0 has no upstream gradient`);
  return dy;
}

function input(ctx: GradientContext, i: number): Value {
  return ctx.inputs[i] as Value;
}

function output(ctx: GradientContext, i = 0): Value {
  return ctx.outputs[i] as Value;
}

function intAttribute(ctx: GradientContext, name: string, fallback: number): number {
  const v = ctx.node.attributes[name];
  return typeof v === 'number' ? v : fallback;
}

/** The values of a constant input (axes, pads, k, a ratio); throws if it is computed at run time. */
function constantNumbers(ctx: GradientContext, i: number): number[] {
  const v = input(ctx, i);
  const data = v.graph.constantData(v);
  if (!data) throw new Error(`gradient of ${ctx.node.opType} (node ${ctx.node.name}): input ${i} "${v.name}" must be a constant`);
  return toNumbers(data);
}

/** x's shape as an int64 tensor: a constant when static, else read at run time. */
export function shapeOf(x: Value): Value {
  return isStaticShape(x.shape) ? op.int64s(x.graph.root, x.shape) : op.shape(x);
}

export function zerosLike(x: Value): Value {
  return op.constantOfShape(shapeOf(x), 0, x.dtype);
}

function swapLastTwo(x: Value): Value {
  const rank = x.shape.length;
  const perm = x.shape.map((_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return op.transpose(x, perm);
}

function isTransposeOutput(v: Value): boolean {
  return v.graph.producerOf(v)?.node.opType === 'Transpose';
}

function inversePermutation(perm: readonly number[]): number[] {
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return inverse;
}

/** Number of elements each output of a reduction over `axes` averages, as a scalar of x's dtype. */
function reductionCount(x: Value, y: Value, axes: readonly number[]): Value {
  let count: number | undefined = 1;
  for (const a of axes) {
    const d = x.shape[a];
    count = count !== undefined && typeof d === 'number' ? count * d : undefined;
  }
  if (count !== undefined) return x.graph.root.constant(count, x.dtype);
  return op.div(op.cast(op.size(x), x.dtype), op.cast(op.size(y), x.dtype));
}

/** dy of a reduction over `axes`, reshaped to broadcast against x (keepdims form). */
function keepdimsGrad(ctx: GradientContext, axes: readonly number[]): Value {
  const dy = dyOf(ctx);
  return intAttribute(ctx, 'keepdims', 1) ? dy : op.unsqueeze(dy, axes);
}

function reductionAxes(ctx: GradientContext): number[] {
  const rank = input(ctx, 0).shape.length;
  const axes = ctx.inputs.length > 1 ? constantNumbers(ctx, 1) : [];
  const all = axes.length === 0 ? Array.from({ length: rank }, (_, i) => i) : axes;
  return all.map((a) => (a < 0 ? a + rank : a));
}

/** Mask of where a binary Max/Min picked `a`; ties split the gradient evenly. */
function pickMask(a: Value, b: Value, pick: (a: Value, b: Value) => Value): Value {
  return op.add(op.cast(pick(a, b), a.dtype), op.mul(op.cast(op.equal(a, b), a.dtype), 0.5));
}

// ---- the table ----

export const GRADIENT_RULES: Readonly<Record<string, GradientRule>> = {
  Identity: (c) => [dyOf(c)],
  Add: (c) => [dyOf(c), dyOf(c)],
  Sub: (c) => [dyOf(c), c.needs[1] ? op.neg(dyOf(c)) : undefined],
  Mul: (c) => [c.needs[0] ? op.mul(dyOf(c), input(c, 1)) : undefined, c.needs[1] ? op.mul(dyOf(c), input(c, 0)) : undefined],
  // d(a/b)/db = -a/b² = -y/b
  Div: (c) => [c.needs[0] ? op.div(dyOf(c), input(c, 1)) : undefined, c.needs[1] ? op.neg(op.div(op.mul(dyOf(c), output(c)), input(c, 1))) : undefined],
  Pow: (c) => {
    const [a, b] = [input(c, 0), op.cast(input(c, 1), input(c, 0).dtype)];
    return [
      c.needs[0] ? op.mul(dyOf(c), op.mul(b, op.pow(a, op.sub(b, 1)))) : undefined,
      c.needs[1] ? op.mul(dyOf(c), op.mul(output(c), op.log(a))) : undefined,
    ];
  },
  Neg: (c) => [op.neg(dyOf(c))],
  Sqrt: (c) => [op.div(op.mul(dyOf(c), 0.5), output(c))],
  Reciprocal: (c) => [op.neg(op.mul(dyOf(c), op.mul(output(c), output(c))))],
  Exp: (c) => [op.mul(dyOf(c), output(c))],
  Log: (c) => [op.div(dyOf(c), input(c, 0))],
  // erf'(x) = 2/√π · exp(-x²)
  Erf: (c) => {
    const x = input(c, 0);
    return [op.mul(dyOf(c), op.mul(op.exp(op.neg(op.mul(x, x))), 2 / Math.sqrt(Math.PI)))];
  },
  Tanh: (c) => [op.mul(dyOf(c), op.sub(1, op.mul(output(c), output(c))))],
  Sigmoid: (c) => [op.mul(dyOf(c), op.mul(output(c), op.sub(1, output(c))))],
  Relu: (c) => [op.where(op.greater(input(c, 0), 0), dyOf(c), 0)],
  Abs: (c) => [op.mul(dyOf(c), op.sign(input(c, 0)))],
  Max: (c) => [c.needs[0] ? op.mul(dyOf(c), pickMask(input(c, 0), input(c, 1), op.greater)) : undefined, c.needs[1] ? op.mul(dyOf(c), pickMask(input(c, 1), input(c, 0), op.greater)) : undefined],
  Min: (c) => [c.needs[0] ? op.mul(dyOf(c), pickMask(input(c, 0), input(c, 1), op.less)) : undefined, c.needs[1] ? op.mul(dyOf(c), pickMask(input(c, 1), input(c, 0), op.less)) : undefined],
  Sum: (c) => c.inputs.map(() => dyOf(c)),
  Cast: (c) => [op.cast(dyOf(c), input(c, 0).dtype)],
  Where: (c) => {
    const cond = input(c, 0);
    return [undefined, c.needs[1] ? op.where(cond, dyOf(c), 0) : undefined, c.needs[2] ? op.where(cond, 0, dyOf(c)) : undefined];
  },

  // y = a @ b over broadcast batch dims; 1-D operands get a unit axis first, as numpy does.
  MatMul: (c) => {
    const [a, b] = [input(c, 0), input(c, 1)];
    let dy = dyOf(c);
    if (a.shape.length === 1) dy = op.unsqueeze(dy, [dy.shape.length - (b.shape.length === 1 ? 0 : 1)]);
    if (b.shape.length === 1) dy = op.unsqueeze(dy, [dy.shape.length]);
    const a2 = a.shape.length === 1 ? op.unsqueeze(a, [0]) : a;
    const b2 = b.shape.length === 1 ? op.unsqueeze(b, [1]) : b;
    // da: [..., m, k]; for 1-D a the walker sums the unit and batch axes away.
    const da = c.needs[0] ? op.matMul(dy, swapLastTwo(b2)) : undefined;
    let db: Value | undefined;
    if (c.needs[1]) {
      if (b.shape.length === 2 && a.shape.length > 2) {
        // A weight shared across batch dims: one GEMM over all rows instead of a batched product
        // followed by a sum over the batch.
        const k = a.shape[a.shape.length - 1] as Dim;
        const n = dy.shape[dy.shape.length - 1] as Dim;
        const rows = op.reshape(a, [-1, k]);
        const dyRows = op.reshape(dy, [-1, n]);
        // For b = Wᵀ (a Linear layer), produce (dyᵀ a)ᵀ: the Transpose rule then folds the outer
        // transpose away and dW = dyᵀ a is one MatMul that ORT fuses (FusedMatMul, transA).
        db = isTransposeOutput(b) ? op.transpose(op.matMul(op.transpose(dyRows), rows)) : op.matMul(op.transpose(rows), dyRows);
      } else if (b.shape.length === 2 && a.shape.length === 2 && isTransposeOutput(b)) {
        db = op.transpose(op.matMul(op.transpose(dy), a));
      } else if (b.shape.length > 2 && a.shape.length === b.shape.length && isTransposeOutput(b)) {
        // Batched q kᵀ in attention: (dyᵀ a)ᵀ, so the Transpose rule's transpose cancels and dk = dyᵀ q
        // is one FusedMatMul instead of a MatMul and a copy of its result.
        db = swapLastTwo(op.matMul(swapLastTwo(dy), a));
      } else {
        db = op.matMul(swapLastTwo(a2), dy);
        if (b.shape.length === 1) db = op.squeeze(db, [db.shape.length - 1]);
      }
    }
    return [da, db];
  },

  Transpose: (c) => {
    const perm = c.node.attributes.perm as number[] | undefined;
    const rank = input(c, 0).shape.length;
    return [op.transpose(dyOf(c), inversePermutation(perm ?? Array.from({ length: rank }, (_, i) => rank - 1 - i)))];
  },
  Reshape: (c) => [op.reshape(dyOf(c), shapeOf(input(c, 0))), undefined],
  Unsqueeze: (c) => [op.reshape(dyOf(c), shapeOf(input(c, 0))), undefined],
  Squeeze: (c) => [op.reshape(dyOf(c), shapeOf(input(c, 0))), undefined],
  // Expand is broadcasting; the walker's unbroadcast sums dy back to x.
  Expand: (c) => [dyOf(c), undefined],
  Concat: (c) => {
    const axis = intAttribute(c, 'axis', 0);
    const sizes = c.inputs.map((x) => x.shape[axis] as Dim);
    return op.split(dyOf(c), sizes, axis, c.inputs);
  },
  // The inverse of the Concat rule; an output nobody used contributes zeros.
  Split: (c) => {
    const axis = intAttribute(c, 'axis', 0);
    const parts = c.outputs.map((y, i) => c.outputGrads[i] ?? zerosLike(y));
    return [op.concat(parts, axis), ...c.inputs.slice(1).map(() => undefined)];
  },
  Slice: (c) => {
    const x = input(c, 0);
    const [starts, ends, axes, steps] = [1, 2, 3, 4].map((i) => (i < c.inputs.length ? constantNumbers(c, i) : undefined));
    const rank = x.shape.length;
    const pads = new Array<number>(2 * rank).fill(0);
    (axes ?? (starts as number[]).map((_, i) => i)).forEach((axisRaw, i) => {
      const axis = axisRaw < 0 ? axisRaw + rank : axisRaw;
      const size = x.shape[axis] as Dim;
      const step = steps?.[i] ?? 1;
      const start = (starts as number[])[i] as number;
      const end = (ends as number[])[i] as number;
      if (typeof size === 'string' && step === 1 && start >= 0 && end >= op.SLICE_END) {
        pads[axis] = start;
        return;
      }
      if (typeof size !== 'number' || step !== 1) {
        throw new Error(`gradient of Slice (node ${c.node.name}): needs step 1 and a static size on axis ${axis} (got size ${size}, step ${step})`);
      }
      const s = Math.min(Math.max(start < 0 ? start + size : start, 0), size);
      const e = Math.max(Math.min(Math.max(end < 0 ? end + size : end, 0), size), s);
      pads[axis] = s;
      pads[axis + rank] = size - e;
    });
    return [op.pad(dyOf(c), pads), ...c.inputs.slice(1).map(() => undefined)];
  },
  // Embedding-style lookup: scatter-add dy rows into zeros shaped like data. ScatterElements, not
  // ScatterND: ORT 1.29's CPU ScatterND splits the updates over intra-op threads even with reduction
  // 'add', so two threads adding to the same row (a repeated token id) race and lose updates at
  // threads ≥ 2. ScatterElements reduces in one thread, in update order.
  Gather: (c) => {
    const [data, indices] = [input(c, 0), op.cast(input(c, 1), 'int64')];
    const axis = intAttribute(c, 'axis', 0);
    const dy = dyOf(c);
    const q = indices.shape.length;
    // Move the gathered axis to the front (a no-op for axis 0), scatter there, and move it back.
    const rank = data.shape.length;
    const dataPerm = [axis, ...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis)];
    const dyPerm = [...Array.from({ length: q }, (_, i) => axis + i), ...Array.from({ length: axis }, (_, i) => i), ...Array.from({ length: rank - axis - 1 }, (_, i) => axis + q + i)];
    const rest = dataPerm.slice(1).map((i) => data.shape[i] as Dim);
    const front = axis === 0 ? dy : op.transpose(dy, dyPerm); // (indices..., rest...)
    const zeros = axis === 0 ? zerosLike(data) : op.constantOfShape(op.shapeTensor(data.graph, dataPerm.map((i) => data.shape[i] as Dim), [data]), 0, data.dtype);
    let scattered: Value;
    if (rest.every((d) => typeof d === 'number')) {
      // Rows flat: updates (N, rest...), each row's index repeated over the row.
      const updates = op.reshape(front, [-1, ...rest]);
      const rowIndex = op.reshape(indices, [-1, ...rest.map(() => 1)]);
      scattered = op.scatterElements(zeros, op.expand(rowIndex, op.shape(updates)), updates, 0, 'add');
    } else {
      scattered = op.scatterND(zeros, op.unsqueeze(indices, [q]), front, 'add'); // symbolic row shape: no flat form
    }
    return [axis === 0 ? scattered : op.transpose(scattered, inversePermutation(dataPerm)), undefined];
  },
  GatherElements: (c) => {
    const axis = intAttribute(c, 'axis', 0);
    return [op.scatterElements(zerosLike(input(c, 0)), op.cast(input(c, 1), 'int64'), dyOf(c), axis, 'add'), undefined];
  },
  ScatterElements: (c) => {
    if (c.node.attributes.reduction !== undefined && c.node.attributes.reduction !== 'none') {
      throw new Error(`gradient of ScatterElements (node ${c.node.name}): only reduction 'none' has a rule, got '${String(c.node.attributes.reduction)}'`);
    }
    const axis = intAttribute(c, 'axis', 0);
    const [indices, updates] = [input(c, 1), input(c, 2)];
    return [
      c.needs[0] ? op.scatterElements(dyOf(c), indices, zerosLike(updates), axis) : undefined,
      undefined,
      c.needs[2] ? op.gatherElements(dyOf(c), indices, axis) : undefined,
    ];
  },

  // Both return dy broadcastable to x ([B,T,1] for x of [B,T,d]); the walker expands it only if the
  // consumer's rule needs the exact shape (most elementwise rules broadcast it for free).
  ReduceSum: (c) => [keepdimsGrad(c, reductionAxes(c)), undefined],
  ReduceMean: (c) => {
    const [x, y, axes] = [input(c, 0), output(c), reductionAxes(c)];
    return [op.div(keepdimsGrad(c, axes), reductionCount(x, y, axes)), undefined];
  },
  // Ties share the gradient equally, so the result is a true subgradient.
  ReduceMax: (c) => {
    const axes = reductionAxes(c);
    const x = input(c, 0);
    const yKeep = intAttribute(c, 'keepdims', 1) ? output(c) : op.unsqueeze(output(c), axes);
    const mask = op.cast(op.equal(x, yKeep), x.dtype);
    return [op.mul(op.div(mask, op.reduceSum(mask, axes, true)), keepdimsGrad(c, axes)), undefined];
  },
  // dx = y ⊙ (dy − Σ dy ⊙ y)
  Softmax: (c) => {
    const [y, dy] = [output(c), dyOf(c)];
    const axis = intAttribute(c, 'axis', -1);
    return [op.mul(y, op.sub(dy, op.reduceSum(op.mul(dy, y), [axis], true)))];
  },
  // dx = dy − softmax(x) · Σ dy
  LogSoftmax: (c) => {
    const [y, dy] = [output(c), dyOf(c)];
    const axis = intAttribute(c, 'axis', -1);
    return [op.sub(dy, op.mul(op.exp(y), op.reduceSum(dy, [axis], true)))];
  },
  Trilu: (c) => {
    const k = c.inputs.length > 1 ? (constantNumbers(c, 1)[0] ?? 0) : 0;
    return [op.trilu(dyOf(c), intAttribute(c, 'upper', 1) === 1, k), undefined];
  },
  // Kept elements were scaled by 1/(1-ratio); the mask output says which were kept.
  Dropout: (c) => {
    const ratio = c.inputs.length > 1 ? constantNumbers(c, 1)[0] ?? 0.5 : 0.5;
    const training = c.inputs.length > 2 ? constantNumbers(c, 2)[0] === 1 : false;
    if (!training) return [dyOf(c), undefined, undefined];
    return [op.where(output(c, 1), op.mul(dyOf(c), 1 / (1 - ratio)), 0), undefined, undefined];
  },
  // Slice the unpadded region back out of dy.
  Pad: (c) => {
    const pads = constantNumbers(c, 1);
    const x = input(c, 0);
    const rank = x.shape.length;
    const starts = pads.slice(0, rank);
    const ends = x.shape.map((size, i) => {
      const endPad = pads[i + rank] as number;
      if (typeof size === 'number') return (starts[i] as number) + size;
      return endPad === 0 ? op.SLICE_END : -endPad;
    });
    return [op.slice(dyOf(c), starts, ends), undefined];
  },
};
