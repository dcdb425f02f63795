/**
 * ONNX Loop with loop-carried state and scan outputs.
 *
 * The body is built in its own GraphBuilder (a child of `g`), receiving the iteration number and the
 * carried values; it may use any Value of `g` directly (ONNX captures outer-scope names), including
 * parameters and constants, and may call `gradients` on its own values. The Loop runs `tripCount`
 * iterations, or fewer when the body returns a `condition`: the loop stops after the first iteration
 * that returns false (its carried values and scan outputs are kept, so scan outputs are shorter).
 */
import type { GraphBuilder } from './graph-builder.js';
import * as op from './ops.js';
import type { Dim, Value } from './value.js';
import { formatShape, hostTensor } from './value.js';

export interface LoopSpec {
  /** Number of iterations: a number or an int64 scalar Value. */
  tripCount: Value | number;
  /** Initial values of the loop-carried state. */
  carried: readonly Value[];
  /**
   * Builds one iteration: returns the next carried values (same dtypes and shapes), optional per-iteration
   * outputs, and optionally whether to go on (a bool scalar; false ends the loop after this iteration).
   */
  body: (b: GraphBuilder, iteration: Value, carried: Value[]) => { carried: Value[]; scanOutputs?: Value[]; condition?: Value };
}

export interface LoopResult {
  /** Carried values after the last iteration. */
  carried: Value[];
  /** Per-iteration outputs stacked along a new axis 0. */
  scanOutputs: Value[];
}

export function loop(g: GraphBuilder, spec: LoopSpec): LoopResult {
  const where = `Loop (node ${g.peekNodeName('Loop')})`;
  let tripCount: Value;
  if (typeof spec.tripCount === 'number') {
    if (!Number.isInteger(spec.tripCount) || spec.tripCount < 0) throw new Error(`${where}: tripCount ${spec.tripCount} must be a non-negative integer`);
    tripCount = g.constant(hostTensor('int64', [], [spec.tripCount]));
  } else {
    tripCount = spec.tripCount;
    if (tripCount.dtype !== 'int64' || tripCount.shape.length !== 0) {
      throw new Error(`${where}: tripCount must be an int64 scalar, got ${tripCount.dtype}${formatShape(tripCount.shape)}`);
    }
  }
  const body = g.createSubgraph('loop_body');
  const iteration = body.subgraphInput('iteration', 'int64', []);
  const condition = body.subgraphInput('cond', 'bool', []);
  const carriedIn = spec.carried.map((v, i) => body.subgraphInput(`carried_${i}`, v.dtype, v.shape));
  const result = spec.body(body, iteration, carriedIn);
  const scans = result.scanOutputs ?? [];
  if (result.carried.length !== spec.carried.length) {
    throw new Error(`${where}: body returned ${result.carried.length} carried values for ${spec.carried.length} initial ones`);
  }
  result.carried.forEach((next, i) => {
    const initial = spec.carried[i] as Value;
    const shapesConflict = next.shape.length !== initial.shape.length || next.shape.some((d, j) => typeof d === 'number' && typeof initial.shape[j] === 'number' && d !== initial.shape[j]);
    if (next.dtype !== initial.dtype || shapesConflict) {
      throw new Error(`${where}: carried value ${i} starts as ${initial.dtype}${formatShape(initial.shape)} but the body returns ${next.dtype}${formatShape(next.shape)}`);
    }
  });
  // Body outputs: cond, then carried, then scan outputs. Each goes through Identity when it is not
  // a value the body computes itself (a passed-through input, an outer value, a constant).
  if (result.condition && (result.condition.dtype !== 'bool' || result.condition.shape.length !== 0)) {
    throw new Error(`${where}: the body's condition must be a bool scalar, got ${result.condition.dtype}${formatShape(result.condition.shape)}`);
  }
  body.output(result.condition ?? op.identity(condition));
  result.carried.forEach((v) => body.output(v));
  scans.forEach((v) => body.output(v));

  const tripDim: Dim = typeof spec.tripCount === 'number' && !result.condition ? spec.tripCount : g.unknownDim();
  const outputs = [
    // A symbolic size the body changes (a KV cache growing by a position per step) is unknown after the loop.
    ...spec.carried.map((v, i) => ({ dtype: v.dtype, shape: v.shape.map((d, j) => (d === result.carried[i]!.shape[j] ? d : g.unknownDim())) })),
    ...scans.map((v) => ({ dtype: v.dtype, shape: [tripDim, ...v.shape] })),
  ];
  const alwaysTrue = g.constant(hostTensor('bool', [], [1]));
  const values = g.addNode('Loop', [tripCount, alwaysTrue, ...spec.carried], outputs, { body });
  return { carried: values.slice(0, spec.carried.length), scanOutputs: values.slice(spec.carried.length) };
}
