/**
 * Small models built with @cs336/graph, shared by tests and the bench: an MLP and a pre-norm
 * transformer-like block (RMSNorm → causal single-head attention → residual → RMSNorm → ReLU MLP
 * → residual), each with a mean-square loss and its backward pass.
 */
import { gradients } from '../src/autodiff.js';
import { GraphBuilder } from '../src/graph-builder.js';
import * as op from '../src/ops.js';
import type { HostTensor, Value } from '../src/value.js';
import { hostTensor } from '../src/value.js';
import { randomArray } from './reference.js';

export interface BuiltModel {
  /** Forward only: outputs the loss. */
  forward: GraphBuilder;
  /** Forward + backward: outputs the loss and `<param>_grad` for every parameter. */
  training: GraphBuilder;
}

const linear = (v: Value, w: Value) => op.matMul(v, op.transpose(w)); // x Wᵀ, W is (out, in)

function both(build: (g: GraphBuilder) => Value, name: string): BuiltModel {
  const forward = new GraphBuilder(name);
  forward.output(build(forward), 'loss');
  const training = new GraphBuilder(name);
  const loss = build(training);
  training.output(loss, 'loss');
  gradients(loss, training.parameters).forEach((grad, i) => training.output(grad, `${training.parameters[i]!.name}_grad`));
  return { forward, training };
}

export function mlp(dIn: number, hidden: number, dOut: number, dtype: 'float32' | 'float64' = 'float32'): BuiltModel {
  return both((g) => {
    const x = g.input('x', dtype, ['N', dIn]);
    const w1 = g.parameter('w1', dtype, [hidden, dIn]);
    const b1 = g.parameter('b1', dtype, [hidden]);
    const w2 = g.parameter('w2', dtype, [dOut, hidden]);
    const out = linear(op.relu(op.add(linear(x, w1), b1)), w2);
    return op.reduceMean(op.mul(out, out), [0, 1], false);
  }, 'mlp');
}

export function transformerLikeBlock(d: number, dtype: 'float32' | 'float64' = 'float32'): BuiltModel {
  return both((g) => {
    const x = g.input('x', dtype, ['B', 'T', d]);
    const gain1 = g.parameter('gain1', dtype, [d]);
    const wq = g.parameter('wq', dtype, [d, d]);
    const wk = g.parameter('wk', dtype, [d, d]);
    const wv = g.parameter('wv', dtype, [d, d]);
    const gain2 = g.parameter('gain2', dtype, [d]);
    const w1 = g.parameter('w1', dtype, [4 * d, d]);
    const w2 = g.parameter('w2', dtype, [d, 4 * d]);
    const rmsNorm = (v: Value, gain: Value) => op.div(op.mul(v, gain), op.sqrt(op.add(op.reduceMean(op.mul(v, v), [-1]), 1e-5)));
    const n1 = rmsNorm(x, gain1);
    const scores = op.div(op.matMul(linear(n1, wq), op.transpose(linear(n1, wk), [0, 2, 1])), Math.sqrt(d)); // (B, T, T)
    const causal = op.trilu(op.constantOfShape(op.shapeTensor(g, ['T', 'T'], [x]), 1, dtype), false); // (T, T), 1 on and below the diagonal
    const masked = op.where(op.equal(causal, 0), -1e9, scores);
    const h = op.add(x, op.matMul(op.softmax(masked), linear(n1, wv)));
    const out = op.add(h, linear(op.relu(linear(rmsNorm(h, gain2), w1)), w2));
    return op.reduceMean(op.mul(out, out), [0, 1, 2], false);
  }, 'transformer_block');
}

/** Random float32 feeds for every input of g, with symbolic dims taken from `dims`. */
export function randomFeeds(g: GraphBuilder, dims: Record<string, number>, seed: number): Record<string, HostTensor> {
  // Every input of these models is float (the dtype they were built with).
  const out: Record<string, HostTensor> = {};
  g.inputs.forEach((v, i) => {
    const shape = v.shape.map((d) => (typeof d === 'number' ? d : (dims[d] ?? 1)));
    const size = shape.reduce((p, q) => p * q, 1);
    const data = randomArray(size, seed + i, -0.5, 0.5);
    out[v.name] = v.dtype === 'float64' ? hostTensor('float64', shape, new Float64Array(data)) : hostTensor('float32', shape, new Float32Array(data));
  });
  return out;
}
