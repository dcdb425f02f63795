/**
 * The subset of the ONNX protobuf schema we write and read, as a protobufjs JSON descriptor, plus
 * free make* helpers in the style of onnx.helper.
 *
 * Field numbers follow onnx/onnx.proto (IR version 8, which is what opset 18 pairs with). Only the
 * fields this project uses are declared; protobufjs skips unknown fields when decoding, so models
 * written by ORT (e.g. the optimized model file) still decode.
 */
import protobuf from 'protobufjs';
import type { DType, HostTensor } from './value.js';
import { ONNX_ELEMENT_TYPE, dtypeFromOnnx, emptyTypedArray, bytesPerElement, type Dim } from './value.js';

/** ONNX IR version written into every model. IR 8 is the IR that introduced opset 18. */
export const IR_VERSION = 8;

const repeated = (type: string, id: number) => ({ rule: 'repeated', type, id });
const field = (type: string, id: number) => ({ type, id });

const ONNX_DESCRIPTOR = {
  nested: {
    onnx: {
      nested: {
        AttributeType: {
          values: { UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10 },
        },
        AttributeProto: {
          fields: {
            name: field('string', 1),
            f: field('float', 2),
            i: field('int64', 3),
            s: field('bytes', 4),
            t: field('TensorProto', 5),
            g: field('GraphProto', 6),
            floats: repeated('float', 7),
            ints: repeated('int64', 8),
            strings: repeated('bytes', 9),
            tensors: repeated('TensorProto', 10),
            graphs: repeated('GraphProto', 11),
            docString: field('string', 13),
            type: field('AttributeType', 20),
          },
        },
        ValueInfoProto: { fields: { name: field('string', 1), type: field('TypeProto', 2), docString: field('string', 3) } },
        NodeProto: {
          fields: {
            input: repeated('string', 1),
            output: repeated('string', 2),
            name: field('string', 3),
            opType: field('string', 4),
            attribute: repeated('AttributeProto', 5),
            docString: field('string', 6),
            domain: field('string', 7),
          },
        },
        StringStringEntryProto: { fields: { key: field('string', 1), value: field('string', 2) } },
        OperatorSetIdProto: { fields: { domain: field('string', 1), version: field('int64', 2) } },
        ModelProto: {
          fields: {
            irVersion: field('int64', 1),
            producerName: field('string', 2),
            producerVersion: field('string', 3),
            domain: field('string', 4),
            modelVersion: field('int64', 5),
            docString: field('string', 6),
            graph: field('GraphProto', 7),
            opsetImport: repeated('OperatorSetIdProto', 8),
            metadataProps: repeated('StringStringEntryProto', 14),
          },
        },
        GraphProto: {
          fields: {
            node: repeated('NodeProto', 1),
            name: field('string', 2),
            initializer: repeated('TensorProto', 5),
            docString: field('string', 10),
            input: repeated('ValueInfoProto', 11),
            output: repeated('ValueInfoProto', 12),
            valueInfo: repeated('ValueInfoProto', 13),
          },
        },
        TensorProto: {
          fields: {
            dims: repeated('int64', 1),
            dataType: field('int32', 2),
            floatData: repeated('float', 4),
            int32Data: repeated('int32', 5),
            int64Data: repeated('int64', 7),
            name: field('string', 8),
            rawData: field('bytes', 9),
            doubleData: repeated('double', 10),
            docString: field('string', 12),
            externalData: repeated('StringStringEntryProto', 13),
            dataLocation: field('int32', 14),
          },
        },
        TensorShapeProto: {
          fields: { dim: repeated('Dimension', 1) },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: { dimValue: field('int64', 1), dimParam: field('string', 2), denotation: field('string', 3) },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType'] } },
          fields: { tensorType: field('Tensor', 1), denotation: field('string', 6) },
          nested: {
            Tensor: { fields: { elemType: field('int32', 1), shape: field('TensorShapeProto', 2) } },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(ONNX_DESCRIPTOR);
const ModelType = root.lookupType('onnx.ModelProto');

// ---- plain object forms of the protos (what make* return and encodeModel accepts) ----

export type AttributeValue = number | string | number[] | HostTensor | GraphProto | { ints: number[] } | { floats: number[] };

export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: number[];
}
export interface TensorProto {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
  /** With dataLocation 1 (EXTERNAL): where the bytes are, as ONNX's `location`, `offset`, `length` entries. */
  externalData?: Array<{ key: string; value: string }>;
  dataLocation?: number;
}
export interface ValueInfoProto {
  name: string;
  type: { tensorType: { elemType: number; shape?: { dim: Array<{ dimValue?: number; dimParam?: string }> } } };
}
export interface NodeProto {
  name: string;
  opType: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute: AttributeProto[];
}
export interface GraphProto {
  name: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
}
export interface ModelProto {
  irVersion: number;
  producerName: string;
  producerVersion?: string;
  graph: GraphProto;
  opsetImport: Array<{ domain: string; version: number }>;
}

export const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7 } as const;

/** A TensorProto holding `tensor` as little-endian raw_data (the compact form ORT reads fastest). */
export function makeTensor(name: string, tensor: HostTensor): TensorProto {
  const { data } = tensor;
  // Copy so the proto owns its bytes even if the caller later mutates its typed array.
  const rawData = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  return { name, dims: [...tensor.dims], dataType: ONNX_ELEMENT_TYPE[tensor.dtype], rawData };
}

/** Decodes a TensorProto (raw_data or the typed repeated fields) back to a HostTensor. */
export function tensorFromProto(proto: {
  dims?: Array<number | protobuf.Long>;
  dataType?: number;
  rawData?: Uint8Array;
  floatData?: number[];
  doubleData?: number[];
  int32Data?: number[];
  int64Data?: Array<number | protobuf.Long>;
}): HostTensor {
  const dtype = dtypeFromOnnx(proto.dataType ?? 0);
  const dims = (proto.dims ?? []).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const data = emptyTypedArray(dtype, count);
  if (proto.rawData && proto.rawData.length > 0) {
    const bytes = new Uint8Array(data.buffer);
    if (proto.rawData.length !== count * bytesPerElement(dtype)) {
      throw new Error(`TensorProto raw_data has ${proto.rawData.length} bytes, expected ${count * bytesPerElement(dtype)}`);
    }
    bytes.set(proto.rawData);
  } else if (data instanceof BigInt64Array) {
    (proto.int64Data ?? []).forEach((v, i) => (data[i] = BigInt(Number(v))));
  } else {
    const values = proto.floatData?.length ? proto.floatData : proto.doubleData?.length ? proto.doubleData : (proto.int32Data ?? []);
    (data as Float64Array).set(values);
  }
  return { dtype, dims, data };
}

export function makeValueInfo(name: string, dtype: DType, shape?: readonly Dim[]): ValueInfoProto {
  const tensorType: ValueInfoProto['type']['tensorType'] = { elemType: ONNX_ELEMENT_TYPE[dtype] };
  if (shape) {
    tensorType.shape = {
      dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : isPublicDimName(d) ? { dimParam: d } : {})),
    };
  }
  return { name, type: { tensorType } };
}

/** Dims the builder invented for unknown sizes ('?3') are written as anonymous dims, not dim_params. */
function isPublicDimName(d: string): boolean {
  return !d.startsWith('?');
}

function isHostTensor(v: unknown): v is HostTensor {
  return typeof v === 'object' && v !== null && 'dtype' in v && 'dims' in v && 'data' in v;
}

function isGraphProto(v: unknown): v is GraphProto {
  return typeof v === 'object' && v !== null && 'node' in v && 'initializer' in v;
}

/** An AttributeProto; the ONNX attribute type is inferred from the JS value (integers → INT). */
export function makeAttribute(name: string, value: AttributeValue): AttributeProto {
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: ATTRIBUTE_TYPE.INT, i: value } : { name, type: ATTRIBUTE_TYPE.FLOAT, f: value };
  }
  if (typeof value === 'string') return { name, type: ATTRIBUTE_TYPE.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) {
    return value.every(Number.isInteger) ? { name, type: ATTRIBUTE_TYPE.INTS, ints: value } : { name, type: ATTRIBUTE_TYPE.FLOATS, floats: value };
  }
  if (isHostTensor(value)) return { name, type: ATTRIBUTE_TYPE.TENSOR, t: makeTensor('', value) };
  if (isGraphProto(value)) return { name, type: ATTRIBUTE_TYPE.GRAPH, g: value };
  if ('ints' in value) return { name, type: ATTRIBUTE_TYPE.INTS, ints: value.ints };
  return { name, type: ATTRIBUTE_TYPE.FLOATS, floats: value.floats };
}

/** A NodeProto; attributes are sorted by name and undefined ones dropped, so output is deterministic. */
export function makeNode(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  name: string,
  attributes: Readonly<Record<string, AttributeValue | undefined>> = {},
): NodeProto {
  const attribute = Object.keys(attributes)
    .sort()
    .flatMap((key) => {
      const v = attributes[key];
      return v === undefined ? [] : [makeAttribute(key, v)];
    });
  return { name, opType, input: [...inputs], output: [...outputs], attribute };
}

export function makeGraph(
  nodes: NodeProto[],
  name: string,
  inputs: ValueInfoProto[],
  outputs: ValueInfoProto[],
  initializers: TensorProto[] = [],
): GraphProto {
  return { name, node: nodes, input: inputs, output: outputs, initializer: initializers };
}

export function makeModel(graph: GraphProto, options: { opset: number; producer?: string }): ModelProto {
  return {
    irVersion: IR_VERSION,
    producerName: options.producer ?? '@cs336/graph',
    graph,
    opsetImport: [{ domain: '', version: options.opset }],
  };
}

export function encodeModel(model: ModelProto): Uint8Array {
  const message = ModelType.fromObject(model);
  return ModelType.encode(message).finish();
}

/** Decoded model as plain objects (int64 → number, bytes → Uint8Array). Unknown fields are skipped. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const message = ModelType.decode(bytes);
  const object = ModelType.toObject(message, { longs: Number, enums: Number, arrays: true, defaults: false });
  return object as ModelProto;
}

/** Decoded attribute value in plain JS form. */
export function attributeValue(attribute: AttributeProto): number | string | number[] | TensorProto | GraphProto | undefined {
  switch (attribute.type) {
    case ATTRIBUTE_TYPE.FLOAT:
      return attribute.f ?? 0;
    case ATTRIBUTE_TYPE.INT:
      return attribute.i ?? 0;
    case ATTRIBUTE_TYPE.STRING:
      return new TextDecoder().decode(attribute.s ?? new Uint8Array());
    case ATTRIBUTE_TYPE.INTS:
      return attribute.ints ?? [];
    case ATTRIBUTE_TYPE.FLOATS:
      return attribute.floats ?? [];
    case ATTRIBUTE_TYPE.TENSOR:
      return attribute.t;
    case ATTRIBUTE_TYPE.GRAPH:
      return attribute.g;
    default:
      return undefined;
  }
}
