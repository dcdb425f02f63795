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
 * copied), a plain number array (converted; float16 rounds to nearest even), or omitted (zeros).
 * float16 typed data is a Uint16Array of IEEE half-precision bits.
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
    else if (dtype === 'float16') data.forEach((v, i) => ((array as Uint16Array)[i] = float16Bits(v)));
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

/** Element i of a host tensor as a JS number (int64 via Number(), float16 decoded). */
export function elementAsNumber(tensor: HostTensor, index: number): number {
  const v = tensor.data[index];
  if (v === undefined) throw new Error(`element ${index} is out of range for ${tensor.dtype}${formatShape(tensor.dims)}`);
  if (typeof v === 'bigint') return Number(v);
  return tensor.dtype === 'float16' ? float16Value(v) : v;
}

/** IEEE 754 half-precision bits of x, rounded to nearest even (via float32, as hardware converts). */
export function float16Bits(x: number): number {
  const f32 = new Float32Array([x]);
  const bits = new Uint32Array(f32.buffer)[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0); // Inf or NaN
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → Inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    const m = mantissa | 0x800000; // subnormal: shift in the implicit 1
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let out = m >>> shift;
    if (rest > half || (rest === half && out & 1)) out++;
    return sign | out;
  }
  let out = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && out & 1)) out++; // may carry into the exponent, which is right
  return sign | out;
}

/** The number that half-precision bits h encode. */
export function float16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** All elements as JS numbers. */
export function toNumbers(tensor: HostTensor): number[] {
  const out = new Array<number>(tensor.data.length);
  for (let i = 0; i < out.length; i++) out[i] = elementAsNumber(tensor, i);
  return out;
}
