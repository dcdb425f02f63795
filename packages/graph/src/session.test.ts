import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GraphBuilder } from './graph-builder.js';
import { decodeModel } from './onnx-proto.js';
import * as op from './ops.js';
import { CUDA_PROVIDER_FILES, CUDA_PROVIDER_PACKAGE, CudaUnavailableError, Session, assertCudaProviderInstalled, modelUsesFloat64, onnxruntimeBinaryDir, resolveSessionOptions, runGraph } from './session.js';
import { hostTensor, type HostTensor } from './value.js';
import { randomFeeds, transformerLikeBlock } from '../test/models.js';
import { expectClose } from '../test/reference.js';

function smallGraph(): GraphBuilder {
  const g = new GraphBuilder('small');
  const x = g.input('x', 'float32', ['B', 3]);
  const w = g.parameter('w', 'float32', [2, 3]);
  const y = op.matMul(x, op.transpose(w));
  g.output(y, 'y');
  g.output(op.reduceSum(y), 'total');
  return g;
}

const feeds = (): Record<string, HostTensor> => ({
  x: hostTensor('float32', [2, 3], [1, 2, 3, 4, 5, 6]),
  w: hostTensor('float32', [2, 3], [1, 0, 0, 0, 1, 0]),
});

describe('Session feeds and fetches', () => {
  let session: Session;
  beforeAll(async () => {
    session = await Session.create(smallGraph());
  });
  afterAll(async () => {
    await session.release();
  });

  it('lists inputs and outputs and runs', async () => {
    expect(session.inputNames).toEqual(['x', 'w']);
    expect(session.outputNames).toEqual(['y', 'total']);
    const out = await session.run(feeds());
    expect(out.y?.dims).toEqual([2, 2]);
    expectClose(out.y?.data as Float32Array, [1, 2, 4, 5], 0);
  });

  it('fetches a subset', async () => {
    const out = await session.run(feeds(), ['total']);
    expect(Object.keys(out)).toEqual(['total']);
    expectClose(out.total?.data as Float32Array, [12], 0);
  });

  it('names a missing feed with its type', async () => {
    const { w } = feeds();
    await expect(session.run({ w: w! })).rejects.toThrow('Session.run: missing feed "x" (float32[B,3])');
  });

  it('names an unused feed and lists the inputs', async () => {
    await expect(session.run({ ...feeds(), z: hostTensor('float32', [1]) })).rejects.toThrow('Session.run: feed "z" is not an input of this model; inputs are x, w');
  });

  it('rejects a dtype mismatch', async () => {
    await expect(session.run({ ...feeds(), x: hostTensor('float64', [2, 3]) })).rejects.toThrow('Session.run: feed "x" is float64 but the input is float32[B,3]; convert the data');
  });

  it('rejects a rank or static dim mismatch', async () => {
    await expect(session.run({ ...feeds(), x: hostTensor('float32', [6]) })).rejects.toThrow('(rank differs)');
    await expect(session.run({ ...feeds(), w: hostTensor('float32', [3, 2]) })).rejects.toThrow('Session.run: feed "w" has shape [3,2] but the input is [2,3] (dim 0 must be 2)');
  });

  it('rejects an unknown fetch', async () => {
    await expect(session.run(feeds(), ['nope'])).rejects.toThrow('Session.run: fetch "nope" is not an output; outputs are y, total');
  });
});

describe('resolveSessionOptions', () => {
  it('fills defaults and rejects bad values with the accepted ones', () => {
    expect(resolveSessionOptions({})).toEqual({ device: 'cpu', optimizationLevel: 'all' });
    expect(() => resolveSessionOptions({ device: 'gpu' as never })).toThrow("Session: device 'gpu' is not supported; use 'cpu' or 'cuda'");
    expect(() => resolveSessionOptions({ threads: 0 })).toThrow('Session: threads 0 must be a positive integer');
    expect(() => resolveSessionOptions({ thread: 2 } as never)).toThrow('Session: unknown field "thread"; did you mean "threads"?');
    expect(() => resolveSessionOptions({ threads: '2' } as never)).toThrow('Session: threads must be a number, got the string "2"');
    expect(() => resolveSessionOptions({ optimizationLevel: 'max' as never })).toThrow("optimizationLevel 'max' is not one of disabled, basic, extended, all");
  });
});

describe("device: 'cuda'", () => {
  const providerPresent = CUDA_PROVIDER_FILES.every((f) => fs.existsSync(path.join(onnxruntimeBinaryDir(), f)));
  (providerPresent ? it.skip : it)('without the provider libraries says what is missing and how to install it', async () => {
    const promise = Session.create(smallGraph(), { device: 'cuda' });
    await expect(promise).rejects.toThrow(/device 'cuda' needs the ONNX Runtime CUDA execution provider, but libonnxruntime_providers_cuda\.so and libonnxruntime_providers_shared\.so are missing from .*napi-v6\/linux\/x64/);
    await expect(Session.create(smallGraph(), { device: 'cuda' })).rejects.toThrow(`npm pack ${CUDA_PROVIDER_PACKAGE}`);
  });

  it('names only the files that are missing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs336-cuda-'));
    try {
      fs.writeFileSync(path.join(dir, 'libonnxruntime_providers_shared.so'), '');
      expect(() => assertCudaProviderInstalled(dir)).toThrow(/but libonnxruntime_providers_cuda\.so is missing from/);
      // A CudaUnavailableError: the reason alone, for front ends that name their own way out (a CLI's --device cpu).
      const error = (() => { try { assertCudaProviderInstalled(dir); } catch (e) { return e; } })();
      expect(error).toBeInstanceOf(CudaUnavailableError);
      expect((error as CudaUnavailableError).message).toMatch(/Or use device: 'cpu'\.$/);
      expect((error as CudaUnavailableError).reason).not.toMatch(/device: 'cpu'/);
      fs.writeFileSync(path.join(dir, 'libonnxruntime_providers_cuda.so'), '');
      expect(() => assertCudaProviderInstalled(dir)).not.toThrow();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('optimization levels', () => {
  it("'all' fuses MatMul+Transpose into FusedMatMul and gives the same numbers as 'disabled'", async () => {
    const g = transformerLikeBlock(8).training;
    const model = g.toModel();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs336-opt-'));
    try {
      const optimizedPath = path.join(dir, 'optimized.onnx');
      const optimized = await Session.create(model, { optimizationLevel: 'all', optimizedModelPath: optimizedPath });
      const plain = await Session.create(model, { optimizationLevel: 'disabled' });
      const f = randomFeeds(g, { B: 2, T: 5 }, 60);
      const a = await optimized.run(f);
      const b = await plain.run(f);
      await optimized.release();
      await plain.release();
      for (const name of Object.keys(b)) expectClose(a[name]!.data as Float32Array, Array.from(b[name]!.data as Float32Array), 1e-5);
      const fused = decodeModel(fs.readFileSync(optimizedPath)).graph.node.filter((n) => n.opType === 'FusedMatMul');
      expect(fused.length).toBeGreaterThan(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('float64 precision', () => {
  /** (a · b) / √12 with 1/√12 not a float: exact in float64 only if the scale never becomes a float32 alpha. */
  async function scaledProduct(dtype: 'float32' | 'float64', optimizedModelPath: string) {
    const g = new GraphBuilder('scaled');
    const a = g.input('a', dtype, [3, 12]);
    const b = g.input('b', dtype, [12, 4]);
    g.output(op.div(op.matMul(a, b), Math.sqrt(12)), 'y');
    const session = await Session.create(g, { optimizedModelPath });
    const av = Array.from({ length: 36 }, (_, i) => Math.sin(i + 1));
    const bv = Array.from({ length: 48 }, (_, i) => Math.cos(i + 2));
    const out = await session.run({ a: hostTensor(dtype, [3, 12], av), b: hostTensor(dtype, [12, 4], bv) });
    await session.release();
    const fused = decodeModel(fs.readFileSync(optimizedModelPath)).graph.node.some((n) => n.opType === 'FusedMatMul');
    let worst = 0;
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 4; j++) {
        let dot = 0;
        for (let k = 0; k < 12; k++) dot += av[i * 12 + k]! * bv[k * 4 + j]!;
        const expected = dot / Math.sqrt(12);
        worst = Math.max(worst, Math.abs(out['y']!.data[i * 4 + j] as number - expected) / Math.abs(expected));
      }
    }
    return { fused, worst };
  }

  it('float64 graphs keep the scale in float64 (no MatMulScaleFusion); float32 graphs still fuse it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs336-f64-'));
    try {
      const f64 = await scaledProduct('float64', path.join(dir, 'f64.onnx'));
      expect(f64.fused).toBe(false);
      expect(f64.worst).toBeLessThan(1e-14); // a float32 alpha gives ~1e-8
      const f32 = await scaledProduct('float32', path.join(dir, 'f32.onnx'));
      expect(f32.fused).toBe(true);
      expect(f32.worst).toBeLessThan(1e-6);
      // float64 scalars inside a float32 model (AdamW's bias corrections) leave it a float32 model.
      const mixed = new GraphBuilder('mixed');
      mixed.output(op.cast(op.mul(op.cast(mixed.input('x', 'float32', [2]), 'float64'), 3), 'float32'), 'y');
      expect(modelUsesFloat64(mixed.toModel())).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('runGraph', () => {
  it('creates, runs and releases in one call', async () => {
    const out = await runGraph(smallGraph(), feeds());
    expectClose(out.total?.data as Float32Array, [12], 0);
  });
});
