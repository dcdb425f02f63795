import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { CUDA_PROVIDER_FILES, CUDA_PROVIDER_PACKAGE, onnxruntimeBinaryDir } from './session.js';
import { onnxruntimeVersions, probeExecutionProviders } from './execution-providers.js';
import { measureMatMulFlops } from './matmul-probe.js';

const cudaInstalled = CUDA_PROVIDER_FILES.every((f) => fs.existsSync(path.join(onnxruntimeBinaryDir(), f)));

describe('probeExecutionProviders', () => {
  it('reports the CPU provider as loading and names the installed onnxruntime-node version', async () => {
    const [cpu] = await probeExecutionProviders();
    expect(cpu).toMatchObject({ device: 'cpu', available: true });
    const installed = JSON.parse(fs.readFileSync(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string };
    expect(onnxruntimeVersions().node).toBe(installed.version);
  });

  (cudaInstalled ? it.skip : it)('without the CUDA provider files says which are missing, where, and how to install them', async () => {
    const cuda = (await probeExecutionProviders()).find((s) => s.device === 'cuda')!;
    expect(cuda.available).toBe(false);
    expect(cuda.missingFiles).toEqual([...CUDA_PROVIDER_FILES]);
    expect(cuda.detail).toContain(onnxruntimeBinaryDir());
    expect(cuda.detail).toContain(`npm pack ${CUDA_PROVIDER_PACKAGE}`);
  });

  it('with provider files that do not load (here: empty stand-ins) reports the load failure instead', async () => {
    // A copy of the binding folder with zero-byte "provider libraries": the files are present, loading fails.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ep-probe-'));
    try {
      for (const file of CUDA_PROVIDER_FILES) fs.writeFileSync(path.join(dir, file), '');
      const cuda = (await probeExecutionProviders(dir)).find((s) => s.device === 'cuda')!;
      expect(cuda.missingFiles).toEqual([]);
      expect(cuda.available).toBe(false);
      expect(cuda.detail).toMatch(/provider files are in .* but the CUDA provider does not load/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('measureMatMulFlops', () => {
  it('times at least three runs of a 2·n³ MatMul and reports the best', async () => {
    const result = await measureMatMulFlops({ size: 128, seconds: 0.05, threads: 1 });
    expect(result.runs).toBeGreaterThanOrEqual(3);
    expect(result.flopsPerSecond).toBeCloseTo((2 * 128 ** 3) / result.bestSeconds, 0);
    expect(result.flopsPerSecond).toBeGreaterThan(1e8); // even a slow core does 0.1 GFLOP/s
    await expect(measureMatMulFlops({ size: 0 })).rejects.toThrow(/size must be a positive integer, got 0/);
  });
});
