/**
 * cs336 account: the printed numbers against the handout's formulas written out here (2·m·n·p FLOPs per
 * matmul, 4 bytes per float32), and --run's MFU against a tiny run's own metrics.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readMetrics, train } from '@cs336/train';
import { UsageError } from '../command.js';
import { capture } from '../../test/capture.js';
import { TINY_MODEL, writeTokens } from '../../test/tiny-run.js';
import { accountCommand } from './account.js';

describe('cs336 account', () => {
  it('--preset gpt2-xl --json: parameters, FLOPs, memory, largest batch and training days from first principles', async () => {
    const { code, stdout } = await capture(() => accountCommand.run(['--preset', 'gpt2-xl', '--json']));
    expect(code).toBe(0);
    const r = JSON.parse(stdout);
    const [V, T, L, d, h, dFf] = [50_257, 1024, 48, 1600, 25, 6400];
    const params = 2 * V * d + T * d + L * (4 * d * d + 2 * d * dFf + 2 * d) + d;
    expect(r.parameters.total).toBe(params);
    const forward = L * (8 * T * d * d + 4 * T * T * d + 4 * T * d * dFf) + 2 * T * d * V;
    expect(r.forward.flops.total).toBe(forward);
    expect(r.forward.shares.feedForward).toBeCloseTo((L * 4 * T * d * dFf) / forward, 12);
    const perSequence = 4 * (L * (T * (8 * d + 2 * dFf) + 2 * h * T * T) + T * d + 2 * T * V);
    expect(r.memory.fixedBytes).toBe(16 * params);
    expect(r.memory.bytesPerSequence).toBe(perSequence);
    expect(r.memory.maxBatchSize).toBe(Math.floor((80e9 - 16 * params) / perSequence));
    expect(r.step.total).toBe(3 * 1024 * forward + 14 * params);
    expect(r.training.days).toBeCloseTo((400_000 * (3 * 1024 * forward + 14 * params)) / (0.5 * 19.5e12) / 86_400, 6);
  });

  it('prints the tables people read: the parameter count, the 16k-context column, the AdamW line and the days', async () => {
    const { code, stdout } = await capture(() => accountCommand.run(['--preset', 'gpt2-xl']));
    expect(code).toBe(0);
    expect(stdout).toContain('trainable parameters: 1,637,176,000 (6.55 GB in float32)');
    expect(stdout).toMatch(/at T 16,384/);
    expect(stdout).toContain('AdamW peak memory (float32): 26.19 GB + 15.52 GB × batch_size');
    expect(stdout).toContain('largest batch in 80.00 GB: 3');
    expect(stdout).toMatch(/5,115 days \(14\.0 years\)/);
  });

  it('--config and --context: a run config file at another context length', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'account-'));
    try {
      const file = path.join(dir, 'cfg.json');
      fs.writeFileSync(file, JSON.stringify({ model: { vocabSize: 1000, contextLength: 64, dModel: 64, numLayers: 2, numHeads: 4, dFf: 256 }, trainData: 'x.bin' }));
      const r = JSON.parse((await capture(() => accountCommand.run(['--config', file, '--context', '32', '--batch', '8', '--json']))).stdout);
      expect(r.model.contextLength).toBe(32);
      expect(r.forward.flops.total).toBe(2 * (8 * 32 * 64 * 64 + 4 * 32 * 32 * 64 + 4 * 32 * 64 * 256) + 2 * 32 * 64 * 1000);
      expect(r.step.batchSize).toBe(8);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad flags before doing anything', async () => {
    await expect(accountCommand.run(['--preset', 'gpt3'])).rejects.toThrow(/--preset must be one of gpt2-small, gpt2-medium, gpt2-large, gpt2-xl/);
    await expect(accountCommand.run(['--preset', 'gpt2-xl', '--config', 'c.json'])).rejects.toThrow(UsageError);
    await expect(accountCommand.run(['--context', '0'])).rejects.toThrow(/--context must be an integer ≥ 1/);
    await expect(accountCommand.run(['--run', '/nonexistent-run'])).rejects.toThrow(/has no metrics.jsonl/);
    await expect(accountCommand.run(['--run', 'x', '--preset', 'gpt2-xl'])).rejects.toThrow(/--preset does not go with --run/);
  });

  it("--run DIR: the run's MFU is its median tokens/s × 3·(forward matmul FLOPs per token) / the peak given", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'account-run-'));
    try {
      const data = writeTokens(path.join(dir, 'train.bin'), 4000);
      const model = TINY_MODEL;
      const runDir = path.join(dir, 'run');
      await train({ model, train: { runDir, trainData: data, steps: 8, stepsPerRun: 2, batchSize: 2, warmupSteps: 1, threads: 1, evalEvery: 0, checkpointEvery: 8 } });
      const { code, stdout } = await capture(() => accountCommand.run(['--run', runDir, '--peak-tflops', '0.001', '--json']));
      expect(code).toBe(0);
      const r = JSON.parse(stdout);
      const rates = readMetrics(path.join(runDir, 'metrics.jsonl')).filter((m) => m.step > 0).map((m) => m.tokensPerSecond!).sort((a, b) => a - b);
      const median = rates[Math.floor(rates.length / 2)]!;
      const [T, d, V, dFf] = [16, 16, 32, 64];
      const forwardPerToken = (8 * T * d * d + 4 * T * T * d + 4 * T * d * dFf + 2 * T * d * V) / T;
      expect(r.tokensPerSecond).toBe(median);
      expect(r.flopsPerToken).toBe(3 * forwardPerToken);
      expect(r.mfu).toBeCloseTo((median * 3 * forwardPerToken) / 1e9, 12);
      expect(r.peakSource).toBe('--peak-tflops');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
