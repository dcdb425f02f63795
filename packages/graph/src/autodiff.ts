/**
 * Reverse-mode autodiff over a GraphBuilder: gradients are ordinary ONNX nodes in the same graph.
 *
 * 1. Find the nodes on a path from some `wrt` value to the loss.
 * 2. Visit them in reverse topological order, applying the op's rule from GRADIENT_RULES.
 * 3. Sum the contributions of values with several consumers (fan-out) when they are first needed.
 * 4. Undo broadcasting here and only here: a contribution shaped like the op's output is summed
 *    over the axes broadcasting stretched (one ReduceSum). Contributions may stay smaller than
 *    their value (broadcastable to it); they are expanded only before rules that need exact shapes.
 */
import type { GraphNode } from './graph-builder.js';
import { BROADCAST_SAFE, GRADIENT_RULES, NOT_DIFFERENTIABLE, shapeOf, zerosLike } from './gradient-rules.js';
import * as op from './ops.js';
import type { Dim, Value } from './value.js';
import { formatShape, hostTensor, isFloatDType } from './value.js';

/**
 * d(loss)/d(w) for each w in `wrt`, in the same order. `seed` is the upstream gradient of `loss`
 * (required unless loss has one element); a `wrt` value the loss does not depend on gets zeros.
 */
export function gradients(loss: Value, wrt: readonly Value[], seed?: Value): Value[] {
  const g = loss.graph;
  if (!isFloatDType(loss.dtype)) throw new Error(`gradients: loss "${loss.name}" is ${loss.dtype}; it must be a float tensor`);
  for (const w of wrt) {
    if (!g.isWithin(w.graph)) throw new Error(`gradients: wrt value "${w.name}" is not visible from the loss's graph "${g.name}"`);
    if (!isFloatDType(w.dtype)) throw new Error(`gradients: wrt value "${w.name}" is ${w.dtype}; only float values have gradients`);
  }
  return g.withScope('grad', () => {
    const wrtNames = new Set(wrt.map((w) => w.name));
    const reaches = reachability(g.producerOf.bind(g), wrtNames);
    const order = reverseTopologicalOrder(loss, g.producerOf.bind(g), reaches);

    const pending = new Map<string, Value[]>();
    const accumulate = (v: Value, grad: Value) => {
      const list = pending.get(v.name);
      if (list) list.push(grad);
      else pending.set(v.name, [grad]);
    };
    const total = (v: Value): Value | undefined => {
      const list = pending.get(v.name);
      if (!list || list.length === 0) return undefined;
      if (list.length > 1) {
        const summed = list.length === 2 ? op.add(list[0] as Value, list[1] as Value) : op.sum(list);
        pending.set(v.name, [summed]);
        return summed;
      }
      return list[0];
    };
    // Contributions may be smaller than their value (broadcastable to it, e.g. a reduction's dy of
    // shape [B,T,1] for x of [B,T,d]); they are expanded only for rules that need the exact shape.
    const exact = (v: Value): Value | undefined => {
      const t = total(v);
      if (!t || sameShape(t, v)) return t;
      const expanded = op.expand(t, shapeOf(v));
      pending.set(v.name, [expanded]);
      return expanded;
    };

    accumulate(loss, seed ? checkedSeed(loss, seed) : defaultSeed(loss));
    for (const node of order) {
      const outputGrads = node.outputs.map(BROADCAST_SAFE.has(node.opType) ? total : exact);
      if (outputGrads.every((d) => d === undefined)) continue;
      if (NOT_DIFFERENTIABLE.has(node.opType)) continue;
      const needs = node.inputs.map((x) => isFloatDType(x.dtype) && reaches(x));
      if (!needs.some(Boolean)) continue; // e.g. the producer of a wrt value that depends on no other
      const rule = GRADIENT_RULES[node.opType];
      if (!rule) {
        throw new Error(
          `gradients: no gradient rule for op ${node.opType} (node ${node.name}), which lies between the loss "${loss.name}" ` +
            `and ${[...wrtNames].join(', ')}; add a row to GRADIENT_RULES or keep the op off the path to the loss`,
        );
      }
      const inputGrads = rule({ node, inputs: node.inputs, outputs: node.outputs, outputGrads, needs });
      if (inputGrads.length !== node.inputs.length) {
        throw new Error(`gradients: rule for ${node.opType} returned ${inputGrads.length} gradients for ${node.inputs.length} inputs (node ${node.name})`);
      }
      node.inputs.forEach((x, i) => {
        const grad = inputGrads[i];
        if (needs[i] && grad) accumulate(x, sumStretchedAxes(grad, x, node));
      });
    }
    return wrt.map((w) => exact(w) ?? zerosLike(w));
  });
}

function defaultSeed(loss: Value): Value {
  if (!loss.shape.every((d) => d === 1)) {
    throw new Error(`gradients: loss "${loss.name}" has shape ${formatShape(loss.shape)}; pass a seed of that shape, or reduce it to one element`);
  }
  const dims = loss.shape as number[];
  return loss.graph.constant(hostTensor(loss.dtype, dims, dims.length === 0 ? [1] : new Array<number>(1).fill(1)));
}

function checkedSeed(loss: Value, seed: Value): Value {
  if (seed.dtype !== loss.dtype) throw new Error(`gradients: seed "${seed.name}" is ${seed.dtype} but loss "${loss.name}" is ${loss.dtype}`);
  const sameRank = seed.shape.length === loss.shape.length;
  const conflict = sameRank && seed.shape.some((d, i) => typeof d === 'number' && typeof loss.shape[i] === 'number' && d !== loss.shape[i]);
  if (!sameRank || conflict) throw new Error(`gradients: seed shape ${formatShape(seed.shape)} differs from loss shape ${formatShape(loss.shape)}`);
  return seed;
}

type ProducerLookup = (v: Value) => { node: GraphNode; index: number } | undefined;

/** reaches(v): v is a wrt value or is computed from one. Memoized, iterative (graphs can be deep). */
function reachability(producerOf: ProducerLookup, wrtNames: ReadonlySet<string>): (v: Value) => boolean {
  const memo = new Map<string, boolean>();
  const reaches = (start: Value): boolean => {
    const stack: Array<{ v: Value; expanded: boolean }> = [{ v: start, expanded: false }];
    while (stack.length) {
      const top = stack[stack.length - 1] as { v: Value; expanded: boolean };
      if (memo.has(top.v.name)) {
        stack.pop();
        continue;
      }
      if (wrtNames.has(top.v.name)) {
        memo.set(top.v.name, true);
        stack.pop();
        continue;
      }
      const producer = producerOf(top.v);
      if (!producer) {
        memo.set(top.v.name, false);
        stack.pop();
        continue;
      }
      if (!top.expanded) {
        top.expanded = true;
        for (const x of producer.node.inputs) if (!memo.has(x.name)) stack.push({ v: x, expanded: false });
        continue;
      }
      memo.set(top.v.name, producer.node.inputs.some((x) => memo.get(x.name) === true));
      stack.pop();
    }
    return memo.get(start.name) === true;
  };
  return reaches;
}

/** Nodes on a path from a wrt value to `loss`, consumers before producers. */
function reverseTopologicalOrder(loss: Value, producerOf: ProducerLookup, reaches: (v: Value) => boolean): GraphNode[] {
  const postOrder: GraphNode[] = [];
  const visited = new Set<GraphNode>();
  const start = producerOf(loss);
  if (!start || !reaches(loss)) return [];
  const stack: Array<{ node: GraphNode; expanded: boolean }> = [{ node: start.node, expanded: false }];
  while (stack.length) {
    const top = stack[stack.length - 1] as { node: GraphNode; expanded: boolean };
    if (top.expanded) {
      postOrder.push(top.node);
      stack.pop();
      continue;
    }
    // Mark a node when it is expanded, not when it is pushed: marking at push time lets a producer be
    // emitted before one of its consumers (e = exp(x); e / sum(e) got d/de before sum's share arrived).
    if (visited.has(top.node)) {
      stack.pop();
      continue;
    }
    visited.add(top.node);
    top.expanded = true;
    for (const x of top.node.inputs) {
      if (!reaches(x)) continue;
      const producer = producerOf(x);
      if (producer && !visited.has(producer.node)) stack.push({ node: producer.node, expanded: false });
    }
  }
  return postOrder.reverse();
}

function sameShape(a: Value, b: Value): boolean {
  return a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

/**
 * Axes of `grad` to sum so that the result broadcasts to `x`: added leading axes, and axes where x
 * has a static 1 and grad does not. Undefined when that depends on run-time sizes (x has a
 * symbolic dim facing a different dim of grad).
 */
function stretchedAxes(x: readonly Dim[], grad: readonly Dim[], what: string): number[] | undefined {
  const lead = grad.length - x.length;
  const axes = Array.from({ length: lead }, (_, i) => i);
  for (let i = 0; i < x.length; i++) {
    const [f, t] = [x[i] as Dim, grad[lead + i] as Dim];
    if (f === t || t === 1) continue;
    if (f === 1) axes.push(lead + i);
    else if (typeof f === 'number' && typeof t === 'number') throw new Error(`${what}: gradient shape ${formatShape(grad)} does not broadcast to input shape ${formatShape(x)}`);
    else if (typeof f === 'string') return undefined; // x's 'M' may be 1 at run time
    // a static f facing a symbolic t: broadcasting made them equal, nothing to sum
  }
  return axes;
}

/**
 * Sums a gradient (shaped like the node's broadcast output, or smaller) over the axes broadcasting
 * stretched, so that it broadcasts to input `x`. This is the one place broadcasting is undone: one
 * ReduceSum (+ Squeeze of vanished leading axes); the stretched axes are computed at run time only
 * when shapes leave them open.
 */
function sumStretchedAxes(grad: Value, x: Value, node?: GraphNode): Value {
  if (sameShape(grad, x)) return grad;
  const what = `gradients: rule for ${node?.opType ?? '?'} (node ${node?.name ?? '?'}), input "${x.name}"`;
  if (grad.shape.length < x.shape.length) throw new Error(`${what}: gradient rank ${grad.shape.length} is below the input's ${x.shape.length}`);
  const lead = grad.shape.length - x.shape.length;
  const leading = Array.from({ length: lead }, (_, i) => i);
  const axes = stretchedAxes(x.shape, grad.shape, what);
  if (axes) {
    if (axes.length === 0) return grad;
    if (axes.every((a) => a < lead)) return op.reduceSum(grad, axes, false);
    const summed = op.reduceSum(grad, axes, true);
    return lead > 0 ? op.squeeze(summed, leading) : summed;
  }
  // Run time: an axis was stretched iff x's (left-padded) size is smaller than grad's.
  const xShape = lead > 0 ? op.concat([op.int64s(x.graph.root, new Array<number>(lead).fill(1)), op.shape(x)], 0) : op.shape(x);
  const stretched = op.reshape(op.nonZero(op.less(xShape, op.shape(grad))), [-1]);
  const summed = op.reduceSumOverAxes(grad, stretched);
  return lead > 0 ? op.squeeze(summed, leading) : summed;
}

/** `grad` summed over broadcast axes and shaped exactly like `x`. */
export function unbroadcast(grad: Value, x: Value): Value {
  const summed = sumStretchedAxes(grad, x);
  return sameShape(summed, x) ? summed : op.expand(summed, shapeOf(x));
}
