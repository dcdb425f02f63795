/**
 * Symbolic tensors (Value) and host tensors (HostTensor).
 *
 * A Value is a name in an ONNX graph plus what the builder knows about it at build time: its element
 * type and its shape, where a dimension is a number (static) or a string (symbolic, e.g. 'B', 'T').
 * A HostTensor is real data in a typed array, used for constants, feeds and fetched results.
 */
import type { GraphBuilder } from './graph-builder.js';

export type DType = 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'bool' | 'uint8';
/** A static size, or a symbolic name such as 'B' that is only known when the graph runs. */
export type Dim = number | string;

export interface Value {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly Dim[];
  readonly graph: GraphBuilder;
}

export type TypedArray = Float32Array | Float64Array | Uint16Array /* float16 bits */ | BigInt64Array | Int32Array | Uint8Array;

export interface HostTensor {
  dtype: DType;
  dims: readonly number[];
  data: TypedArray;
}

export const DTYPES: readonly DType[] = ['float32', 'float64', 'float16', 'int64', 'int32', 'bool', 'uint8'];

/** ONNX TensorProto.DataType codes (onnx.proto). */
export const ONNX_ELEMENT_TYPE: Readonly<Record<DType, number>> = {
  float32: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
};

export function dtypeFromOnnx(code: number): DType {
  for (const dtype of DTYPES) if (ONNX_ELEMENT_TYPE[dtype] === code) return dtype;
  throw new Error(`ONNX element type ${code} is not supported; supported: ${DTYPES.join(', ')}`);
}

export function isFloatDType(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16';
}

export function bytesPerElement(dtype: DType): number {
  switch (dtype) {
    case 'float64':
    case 'int64':
      return 8;
    case 'float32':
    case 'int32':
      return 4;
    case 'float16':
      return 2;
    case 'bool':
    case 'uint8':
      return 1;
  }
}

/** Number of elements of a fully static shape. */
export function elementCount(dims: readonly number[]): number {
  let count = 1;
  for (const d of dims) count *= d;
  return count;
}

export function isStaticShape(shape: readonly Dim[]): shape is readonly number[] {
  return shape.every((d) => typeof d === 'number');
}

export function formatShape(shape: readonly Dim[]): string {
  return `[${shape.join(',')}]`;
}

export function emptyTypedArray(dtype: DType, length: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(length);
    case 'float64':
      return new Float64Array(length);
    case 'float16':
      return new Uint16Array(length);
    case 'int64':
      return new BigInt64Array(length);
    case 'int32':
      return new Int32Array(length);
    case 'bool':
    case 'uint8':
      return new Uint8Array(length);
  }
}

function typedArrayMatches(dtype: DType, data: TypedArray): boolean {
  switch (dtype) {
    case 'float32':
      return data instanceof Float32Array;
    case 'float64':
      return data instanceof Float64Array;
    case 'float16':
      return data instanceof Uint16Array;
    case 'int64':
      return data instanceof BigInt64Array;
    case 'int32':
      return data instanceof Int32Array;
    case 'bool':
    case 'uint8':
      return data instanceof Uint8Array;
  }
}

/**
 * A host tensor of `dtype` and `dims`. `data` may be a typed array of the matching kind (kept, not
 * copied), a plain number array (converted), or omitted (zeros). float16 data is raw IEEE half bits.
 */
export function hostTensor(dtype: DType, dims: readonly number[], data?: TypedArray | number[]): HostTensor {
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(`hostTensor: dims ${formatShape(dims)} must be non-negative integers`);
    }
  }
  const count = elementCount(dims);
  let array: TypedArray;
  if (data === undefined) {
    array = emptyTypedArray(dtype, count);
  } else if (Array.isArray(data)) {
    array = emptyTypedArray(dtype, data.length);
    if (array instanceof BigInt64Array) data.forEach((v, i) => ((array as BigInt64Array)[i] = BigInt(Math.trunc(v))));
    else if (dtype === 'float16') throw new Error('hostTensor: float16 from numbers is not supported; pass a Uint16Array of half-precision bits');
    else (array as Float64Array).set(data);
  } else {
    if (!typedArrayMatches(dtype, data)) {
      throw new Error(`hostTensor: ${dtype} needs a ${emptyTypedArray(dtype, 0).constructor.name}, got ${data.constructor.name}`);
    }
    array = data;
  }
  if (array.length !== count) {
    throw new Error(`hostTensor: ${dtype}${formatShape(dims)} holds ${count} elements but data has ${array.length}`);
  }
  return { dtype, dims: [...dims], data: array };
}

/** Element i of a host tensor as a JS number (int64 via Number()). */
export function elementAsNumber(tensor: HostTensor, index: number): number {
  const v = tensor.data[index];
  if (v === undefined) throw new Error(`element ${index} is out of range for ${tensor.dtype}${formatShape(tensor.dims)}`);
  return typeof v === 'bigint' ? Number(v) : v;
}

/** All elements as JS numbers (float16 is not decoded). */
export function toNumbers(tensor: HostTensor): number[] {
  const out = new Array<number>(tensor.data.length);
  for (let i = 0; i < out.length; i++) out[i] = elementAsNumber(tensor, i);
  return out;
}
