/**
 * bench/torch-timing.py's code paths on the CPU, where PyTorch is installed: each eager variant trains the
 * tiny model and reports a rate, and torch.compile without a compiler is reported as skipped, not a crash.
 * (The compile path itself takes ~40 s on this machine's CPU: run it by hand, see the README.)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '../bench/torch-timing.py');
const python = spawnSync('python3', ['-c', 'import sys, torch; print(sys.executable)'], { encoding: 'utf8' });
const hasTorch = python.status === 0;
const withTorch = hasTorch ? it : (name: string, fn: () => unknown) => it.skip(`${name} [skipped: python3 -c 'import torch' failed]`, fn as () => void);

interface Variant { tokensPerSecond?: number; lastLoss?: number; mfu?: number; skipped?: string; error?: string; note?: string }
function run(variants: string, env: NodeJS.ProcessEnv = process.env) {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'torch-timing-')), 'timing.json');
  const result = spawnSync(python.stdout.trim(), [script, '--device', 'cpu', '--config', 'tiny', '--budget', '0.2', '--warmup', '1', '--peak-size', '256', '--peak-seconds', '0.1', '--threads', '1', '--variants', variants, '--out', out],
    { encoding: 'utf8', env: { ...env, OMP_NUM_THREADS: '1' } });
  if (result.status !== 0) throw new Error(`torch-timing.py exited with ${result.status}: ${result.stderr}`);
  const printed = JSON.parse(result.stdout) as { variants: Record<string, Variant>; flopsPerTokenTraining: number };
  expect(JSON.parse(fs.readFileSync(out, 'utf8'))).toEqual(printed); // --out holds the same JSON
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  return printed;
}

describe('torch-timing.py', () => {
  withTorch('runs fp32, tf32 and bf16-sdpa on the CPU and reports tokens/s, the loss and MFU', () => {
    const report = run('fp32,tf32,bf16-sdpa');
    // The tiny config: V 256, T 16, d 32, 1 layer, dFf 64; 3 × forward matmul FLOPs per token, worked out here.
    const [T, d, V, dFf] = [16, 32, 256, 64];
    expect(report.flopsPerTokenTraining).toBe((3 * (3 * 2 * T * d * d + 4 * T * T * d + 2 * T * d * d + 4 * T * d * dFf + 2 * T * d * V)) / T);
    for (const name of ['fp32', 'tf32', 'bf16-sdpa']) {
      const variant = report.variants[name]!;
      expect(variant.error).toBeUndefined();
      expect(variant.tokensPerSecond).toBeGreaterThan(0);
      expect(Math.abs(variant.lastLoss! - Math.log(V))).toBeLessThan(0.5); // random ids: the loss stays near ln V
      expect(variant.mfu).toBeGreaterThan(0);
    }
    expect(report.variants['tf32']!.note).toContain('CUDA setting');
  });

  withTorch('reports torch.compile as skipped, with the reason, when no C++ compiler is on PATH', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'no-compiler-'));
    const report = run('compile-bf16', { ...process.env, PATH: empty });
    fs.rmSync(empty, { recursive: true, force: true });
    expect(report.variants['compile-bf16']).toEqual({ skipped: expect.stringContaining('needs a C++ compiler') });
  });
});
