/**
 * cs336 doctor on this machine: CPU only, so the CUDA provider files are missing. It must say so (which
 * files, where, how to install), exit 0 for CPU training and 1 when --device cuda is asked for.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CUDA_PROVIDER_FILES, CUDA_PROVIDER_PACKAGE, onnxruntimeBinaryDir } from '@cs336/graph';
import { capture } from '../../test/capture.js';
import { doctorCommand, runChecks } from './doctor.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cudaInstalled = CUDA_PROVIDER_FILES.every((f) => fs.existsSync(path.join(onnxruntimeBinaryDir(), f)));
const cpuOnly = cudaInstalled ? describe.skip : describe;

// The child runs in a scratch folder, so tsx is given by path rather than found from the working folder.
const TSX = pathToFileURL(path.join(path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/loader.mjs')).href;

function cs336(args: string[], cwd: string): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, ['--import', TSX, path.join(here, '../cli.ts'), ...args], {
    cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TSX_TSCONFIG_PATH: path.join(here, '../../../../packages/train/test/tsconfig.child.json') },
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout })));
}

cpuOnly('cs336 doctor (CPU-only machine)', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'doctor-'));
    for (const split of ['train', 'valid']) {
      fs.mkdirSync(path.join(dir, 'data', 'mystories'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'data', 'mystories', `${split}.txt`), 'once upon a time');
    }
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('passes the CPU checks, warns that CUDA is unavailable and why, measures MatMul, and lists data/ datasets', async () => {
    const checks = await runChecks('cpu', dir);
    const byName = new Map(checks.map((c) => [c.name, c]));
    expect(byName.get('cpu provider')!.status).toBe('ok');
    const cuda = byName.get('cuda provider')!;
    expect(cuda.status).toBe('warn');
    for (const file of CUDA_PROVIDER_FILES) expect(cuda.detail).toContain(file);
    expect(cuda.detail).toContain(onnxruntimeBinaryDir());
    expect(cuda.detail).toContain(CUDA_PROVIDER_PACKAGE);
    expect(byName.get('node')!.detail).toContain(process.version);
    expect(byName.get('onnxruntime-node')!.detail).toMatch(/^1\.29\.0/);
    expect(byName.get('cpu')!.detail).toContain(`${os.availableParallelism()} cores`);
    expect(byName.get('matmul')!.detail).toMatch(/^\d+(\.\d)? GFLOP\/s on cpu/);
    expect(byName.get('data/')!.detail).toContain('mystories');
    expect(checks.filter((c) => c.status === 'error')).toEqual([]);
  });

  it('exits 0 for CPU training, 1 with --device cuda (saying CUDA is missing), 2 for a bad flag', async () => {
    const cpu = await cs336(['doctor'], dir);
    expect(cpu.code).toBe(0);
    expect(cpu.stdout).toMatch(/^WARN +cuda provider +unavailable: .*missing from/m);
    expect(cpu.stdout).toMatch(/ready to train on cpu/);
    const cuda = await capture(() => doctorCommand.run(['--device', 'cuda', '--json']));
    expect(cuda.code).toBe(1);
    const report = JSON.parse(cuda.stdout) as { checks: Array<{ name: string; status: string }>; errors: number };
    expect(report.checks.find((c) => c.name === 'cuda provider')!.status).toBe('error');
    expect(report.errors).toBe(1);
    const bad = await cs336(['doctor', '--device', 'tpu'], dir);
    expect(bad.code).toBe(2);
  });
});
