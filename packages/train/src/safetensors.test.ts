import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors, type Tensor } from './safetensors.js';

describe('safetensors', () => {
  it('parses a file built by hand from the format description', () => {
    // Two tensors: "b" F32 [2] = [1.5, -2] at bytes 0..8, "a" I64 [1] = [7] at 8..16.
    const header = JSON.stringify({
      __metadata__: { note: 'hi' },
      b: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      a: { dtype: 'I64', shape: [1], data_offsets: [8, 16] },
    });
    const data = Buffer.alloc(16);
    data.writeFloatLE(1.5, 0);
    data.writeFloatLE(-2, 4);
    data.writeBigInt64LE(7n, 8);
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(Buffer.byteLength(header)));
    const file = Buffer.concat([length, Buffer.from(header), data]);
    const { tensors, metadata } = decodeSafetensors(file);
    expect(metadata).toEqual({ note: 'hi' });
    expect(tensors.get('b')).toEqual({ dtype: 'float32', dims: [2], data: new Float32Array([1.5, -2]) });
    expect(tensors.get('a')).toEqual({ dtype: 'int64', dims: [1], data: new BigInt64Array([7n]) });
  });

  it('writes what the spec says: u64 header length, JSON header, 8-byte aligned contiguous data', () => {
    const bytes = encodeSafetensors({ x: { dtype: 'float64', dims: [3], data: new Float64Array([1, 2, 3]) }, h: { dtype: 'float16', dims: [1], data: new Uint16Array([0x3c00]) } }, { k: 'v' });
    const n = Number(bytes.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(bytes.toString('utf8', 8, 8 + n));
    expect(header).toEqual({
      __metadata__: { k: 'v' },
      h: { dtype: 'F16', shape: [1], data_offsets: [0, 2] },
      x: { dtype: 'F64', shape: [3], data_offsets: [2, 26] },
    });
    expect(bytes.readDoubleLE(8 + n + 2 + 16)).toBe(3);
    expect(bytes.length).toBe(8 + n + 26);
  });

  it('round-trips every dtype through a file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'safetensors-'));
    const tensors: Record<string, Tensor> = {
      'layers.0.attn.q_proj.weight': { dtype: 'float32', dims: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
      f64: { dtype: 'float64', dims: [], data: new Float64Array([Math.PI]) },
      i64: { dtype: 'int64', dims: [2], data: new BigInt64Array([-1n, 2n ** 40n]) },
      i32: { dtype: 'int32', dims: [1], data: new Int32Array([-5]) },
      u8: { dtype: 'uint8', dims: [0], data: new Uint8Array(0) },
    };
    const file = path.join(dir, 'a.safetensors');
    writeSafetensors(file, tensors, { step: '3' });
    const back = readSafetensors(file);
    expect(Object.fromEntries(back.tensors)).toEqual(tensors);
    expect(back.metadata).toEqual({ step: '3' });
    fs.rmSync(dir, { recursive: true });
  });

  it('rejects truncated, overlapping and mistyped input with the tensor named', () => {
    const good = encodeSafetensors({ w: { dtype: 'float32', dims: [4], data: new Float32Array(4) } });
    expect(() => decodeSafetensors(good.subarray(0, good.length - 1), 'w.safetensors')).toThrow(/w\.safetensors: tensor "w" ends at byte 16 of a 15-byte data section/);
    expect(() => decodeSafetensors(Buffer.from([1, 2, 3]))).toThrow(/too short/);
    const header = JSON.stringify({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [2, 6] } });
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(header.length));
    expect(() => decodeSafetensors(Buffer.concat([length, Buffer.from(header), Buffer.alloc(6)]))).toThrow(/"b" starts at 2, expected 4/);
    expect(() => encodeSafetensors({ w: { dtype: 'float32', dims: [3], data: new Float32Array(2) } })).toThrow(/"w".*Float32Array of 3 elements/);
  });
});
