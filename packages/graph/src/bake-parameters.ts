/**
 * Turns parameter inputs into initializers: the graphs of @cs336/train take every parameter as an
 * input (ORT training-artifact style, so one set serves training and inference); a graph for the
 * browser can instead carry its weights, so the runtime loads them once and no run copies them in.
 */
import { decodeModel, encodeModel, makeTensor } from './onnx-proto.js';

const ONNX_FLOAT = 1; // TensorProto.DataType.FLOAT

/** Initializers whose bytes live in one file beside the graph (ONNX external data), so several graphs can share them. */
export interface ExternalWeights {
  /** The file name the runtime is given the bytes under (ONNX `location`). */
  location: string;
  /** Byte offset of each parameter in that file. */
  byteOffsets: ReadonlyMap<string, number>;
}

/**
 * `model` (serialized ONNX) with each input named in `parameters` replaced by an initializer: holding its
 * data, or with `external`, pointing at its bytes in the external file.
 */
export function bakeParameters(model: Uint8Array, parameters: ReadonlyMap<string, Float32Array>, external?: ExternalWeights): Uint8Array {
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
    if (external) {
      const offset = external.byteOffsets.get(input.name);
      if (offset === undefined) throw new Error(`bakeParameters: no byte offset in ${external.location} for "${input.name}"`);
      const entries = { location: external.location, offset: String(offset), length: String(data.byteLength) };
      graph.initializer.push({
        name: input.name, dims, dataType: ONNX_FLOAT, rawData: new Uint8Array(0),
        dataLocation: 1, // EXTERNAL
        externalData: Object.entries(entries).map(([key, value]) => ({ key, value })),
      });
    } else graph.initializer.push(makeTensor(input.name, { dtype: 'float32', dims, data }));
    baked.add(input.name);
  }
  const unused = [...parameters.keys()].filter((name) => !baked.has(name));
  if (unused.length > 0) throw new Error(`bakeParameters: the graph has no input named ${unused.map((n) => `"${n}"`).join(', ')}`);
  graph.input = graph.input.filter((input) => !baked.has(input.name));
  return encodeModel(proto);
}
