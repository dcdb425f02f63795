/** Graph-side parameters: one graph input per ParameterSpec, keyed by its state-dict name. */
import type { DType, GraphBuilder, Value } from '@cs336/graph';
import type { ParameterSpec } from './parameters.js';

export type ParameterValues = Readonly<Record<string, Value>>;

/** Declares every spec as a g.parameter (an ORT-training-style graph input) and returns them by name. */
export function createParameterValues(g: GraphBuilder, specs: readonly ParameterSpec[], dtype: DType = 'float32'): Record<string, Value> {
  const values: Record<string, Value> = {};
  for (const spec of specs) values[spec.name] = g.parameter(spec.name, dtype, spec.shape);
  return values;
}

/** The Value for `name`, or an error naming the missing weight and what needed it. */
export function requireWeight(weights: ParameterValues, name: string, what: string): Value {
  const value = weights[name];
  if (!value) throw new Error(`${what}: missing weight '${name}'; the weights passed have ${Object.keys(weights).join(', ') || 'no keys'}`);
  return value;
}

/** The block-relative view of layer i: 'attn.q_proj.weight' → weights['layers.i.attn.q_proj.weight']. */
export function layerWeights(weights: ParameterValues, layer: number): ParameterValues {
  const prefix = `layers.${layer}.`;
  const view: Record<string, Value> = {};
  for (const [name, value] of Object.entries(weights)) if (name.startsWith(prefix)) view[name.slice(prefix.length)] = value;
  return view;
}
