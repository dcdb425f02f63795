/**
 * Turns parameter inputs into initializers: the graphs of @cs336/train take every parameter as an
 * input (ORT training-artifact style, so one set serves training and inference); a graph for the
 * browser can instead carry its weights, so the runtime loads them once and no run copies them in.
 */
import { decodeModel, encodeModel, makeTensor } from '@cs336/graph';

/** `model` (serialized ONNX) with each input named in `parameters` replaced by an initializer holding its data. */
export function bakeParameters(model: Uint8Array, parameters: ReadonlyMap<string, Float32Array>): Uint8Array {
  const proto = decodeModel(model);
  const graph = proto.graph;
  const baked = new Set<string>();
  for (const input of graph.input) {
    const data = parameters.get(input.name);
    if (!data) continue;
    const dims = (input.type.tensorType.shape?.dim ?? []).map((d, i) => {
      if (d.dimValue === undefined) throw new Error(`bakeParameters: input "${input.name}" has a symbolic dim ${i} (${d.dimParam}); only static parameter shapes can be baked`);
      return d.dimValue;
    });
    const count = dims.reduce((a, b) => a * b, 1);
    if (data.length !== count) throw new Error(`bakeParameters: "${input.name}" has ${data.length} values, the graph declares [${dims.join(', ')}] = ${count}`);
    graph.initializer.push(makeTensor(input.name, { dtype: 'float32', dims, data }));
    baked.add(input.name);
  }
  const unused = [...parameters.keys()].filter((name) => !baked.has(name));
  if (unused.length > 0) throw new Error(`bakeParameters: the graph has no input named ${unused.map((n) => `"${n}"`).join(', ')}`);
  graph.input = graph.input.filter((input) => !baked.has(input.name));
  return encodeModel(proto);
}
