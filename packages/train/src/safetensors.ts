/**
 * The safetensors file format (huggingface/safetensors), so checkpoints open in Python with
 * `safetensors.numpy.load_file` / `safetensors.torch.load_file`:
 *
 *   [8 bytes: N, little-endian u64] [N bytes: UTF-8 JSON header] [tensor bytes]
 *
 * The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets into the
 * tensor bytes, which must be contiguous and cover them exactly), plus an optional "__metadata__"
 * object of string → string. Tensors are little-endian, C order.
 */
import fs from 'node:fs';

/** Element types we read and write, named like the graph package's DType so tensors feed ORT directly. */
export type TensorDType = 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'uint8' | 'bool';
export type TensorData = Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;

/** Structurally the same as @cs336/graph's HostTensor. */
export interface Tensor {
  dtype: TensorDType;
  dims: readonly number[];
  data: TensorData;
}

export interface Safetensors {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

const CODES: Record<TensorDType, string> = { float32: 'F32', float64: 'F64', float16: 'F16', int64: 'I64', int32: 'I32', uint8: 'U8', bool: 'BOOL' };
const WIDTH: Record<TensorDType, number> = { float32: 4, float64: 8, float16: 2, int64: 8, int32: 4, uint8: 1, bool: 1 };
const FROM_CODE = new Map(Object.entries(CODES).map(([dtype, code]) => [code, dtype as TensorDType]));
/** Headers above this are refused rather than parsed (the reference implementation uses the same 100 MB cap). */
const MAX_HEADER_BYTES = 100_000_000;

function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function expectedArray(dtype: TensorDType): string {
  switch (dtype) {
    case 'float32': return 'Float32Array';
    case 'float64': return 'Float64Array';
    case 'float16': return 'Uint16Array';
    case 'int64': return 'BigInt64Array';
    case 'int32': return 'Int32Array';
    default: return 'Uint8Array';
  }
}

/** Serializes tensors (sorted by name, so the bytes depend only on the content) and string metadata. */
export function encodeSafetensors(tensors: Iterable<[string, Tensor]> | Record<string, Tensor>, metadata: Record<string, string> = {}): Buffer {
  const entries = (Symbol.iterator in tensors ? [...(tensors as Iterable<[string, Tensor]>)] : Object.entries(tensors))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw new Error(`safetensors metadata must be strings; "${key}" is ${typeof value} (JSON.stringify it first)`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const [name, tensor] of entries) {
    if (name === '__metadata__') throw new Error('a tensor cannot be named "__metadata__" (reserved by the safetensors header)');
    const count = elementCount(tensor.dims);
    if (tensor.data.length !== count || tensor.data.constructor.name !== expectedArray(tensor.dtype)) {
      throw new Error(`tensor "${name}": ${tensor.dtype} [${tensor.dims.join(', ')}] needs a ${expectedArray(tensor.dtype)} of ${count} elements, got a ${tensor.data.constructor.name} of ${tensor.data.length}`);
    }
    const bytes = count * WIDTH[tensor.dtype];
    header[name] = { dtype: CODES[tensor.dtype], shape: [...tensor.dims], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the tensor bytes start 8-byte aligned, as the reference writer does.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let position = 8 + headerBytes.length;
  for (const [, tensor] of entries) {
    const view = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
    view.copy(out, position);
    position += view.length;
  }
  return out;
}

/** Parses a safetensors buffer; `source` names it in errors. Tensor data are copies, safe to keep. */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors data'): Safetensors {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < 8) throw new Error(`${source}: ${buffer.length} bytes is too short for a safetensors file (8-byte header length missing)`);
  const headerLength = buffer.readBigUInt64LE(0);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, buffer.length - 8))) {
    throw new Error(`${source}: header length ${headerLength} runs past the end of the ${buffer.length}-byte file; the file is truncated or not safetensors`);
  }
  const dataStart = 8 + Number(headerLength);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buffer.toString('utf8', 8, dataStart)) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${source}: the header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new Error(`${source}: the header must be a JSON object`);
  const metadata: Record<string, string> = {};
  const spans: Array<[number, number, string]> = [];
  const tensors = new Map<string, Tensor>();
  const dataLength = buffer.length - dataStart;
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      for (const [key, text] of Object.entries((value ?? {}) as Record<string, unknown>)) {
        if (typeof text !== 'string') throw new Error(`${source}: __metadata__.${key} must be a string`);
        metadata[key] = text;
      }
      continue;
    }
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = FROM_CODE.get(String(info.dtype));
    if (!dtype) throw new Error(`${source}: tensor "${name}" has dtype ${JSON.stringify(info.dtype)}; supported: ${[...FROM_CODE.keys()].join(', ')}`);
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`${source}: tensor "${name}" has a bad shape ${JSON.stringify(shape)}`);
    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new Error(`${source}: tensor "${name}" has bad data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const count = elementCount(shape as number[]);
    if (end - begin !== count * WIDTH[dtype]) {
      throw new Error(`${source}: tensor "${name}" ${dtype} [${shape.join(', ')}] needs ${count * WIDTH[dtype]} bytes but data_offsets span ${end - begin}`);
    }
    if (end > dataLength) throw new Error(`${source}: tensor "${name}" ends at byte ${end} of a ${dataLength}-byte data section; the file is truncated`);
    spans.push([begin, end, name]);
    // Copy into a fresh, aligned buffer (the data section need not be aligned for the typed array).
    const copy = new Uint8Array(end - begin);
    copy.set(buffer.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { dtype, dims: shape as number[], data: typedView(dtype, copy.buffer) });
  }
  // The format requires the tensors to tile the data section with no holes or overlaps.
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cursor = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== cursor) throw new Error(`${source}: tensor "${name}" starts at ${begin}, expected ${cursor} (overlapping or missing bytes)`);
    cursor = end;
  }
  if (cursor !== dataLength) throw new Error(`${source}: ${dataLength - cursor} trailing bytes after the last tensor`);
  return { tensors, metadata };
}

function typedView(dtype: TensorDType, bytes: ArrayBuffer): TensorData {
  switch (dtype) {
    case 'float32': return new Float32Array(bytes);
    case 'float64': return new Float64Array(bytes);
    case 'float16': return new Uint16Array(bytes);
    case 'int64': return new BigInt64Array(bytes);
    case 'int32': return new Int32Array(bytes);
    default: return new Uint8Array(bytes);
  }
}

export function readSafetensors(file: string): Safetensors {
  return decodeSafetensors(fs.readFileSync(file), file);
}

/** Plain write (not atomic); checkpoints go through saveCheckpoint, which is. */
export function writeSafetensors(file: string, tensors: Iterable<[string, Tensor]> | Record<string, Tensor>, metadata?: Record<string, string>): void {
  fs.writeFileSync(file, encodeSafetensors(tensors, metadata));
}
