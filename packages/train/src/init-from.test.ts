/**
 * initFrom: a run that starts from another run's weights evaluates, at step 0, to exactly the loss the
 * source run logged last; the source's optimizer moments are not used (same losses as starting from a
 * parameters-only state dict); a file for another model is refused before training.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveTransformerConfig, transformerParameters } from '@cs336/nn';
import { CHECKPOINT_FILE, loadCheckpoint } from './checkpoint.js';
import { readMetrics } from './metrics.js';
import { writeSafetensors, type Tensor } from './safetensors.js';
import { train, type TrainRunConfig } from './train.js';
import { TINY_MODEL, writeTokenFile } from '../test/tiny-run.js';

let dir: string;
let trainData: string;
let validationData: string;
let source: string;

function config(runDir: string, extra: Record<string, unknown> = {}): TrainRunConfig {
  return {
    model: TINY_MODEL,
    train: { runDir, trainData, validationData, steps: 8, stepsPerRun: 4, batchSize: 4, evalEvery: 4, evalBatches: 2, checkpointEvery: 8, warmupSteps: 2, maxLearningRate: 1e-2, threads: 1, seed: 5, ...extra },
  };
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'init-from-'));
  trainData = writeTokenFile(path.join(dir, 'train.bin'), 4000, 1);
  validationData = writeTokenFile(path.join(dir, 'valid.bin'), 1000, 2);
  await train(config(path.join(dir, 'source'), { steps: 12 }));
  source = path.join(dir, 'source', CHECKPOINT_FILE);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The source checkpoint's parameters alone, as PyTorch would save a (torch.compile'd) model's state dict. */
function writeStateDict(file: string, edit: (tensors: Map<string, Tensor>) => void = () => {}): string {
  const tensors = new Map([...loadCheckpoint(source).parameters].map(([name, t]) => [`_orig_mod.${name}`, t]));
  edit(tensors);
  writeSafetensors(file, tensors);
  return file;
}

describe('initFrom', () => {
  it("step 0 of a run from another run's checkpoint has the source's last validation loss, and steps count from 0", async () => {
    const sourceLoss = readMetrics(path.join(dir, 'source', 'metrics.jsonl')).at(-1)!.valLoss;
    const runDir = path.join(dir, 'from-checkpoint');
    const logs: string[] = [];
    await train(config(runDir, { initFrom: source }), { log: (line) => logs.push(line) });
    const records = readMetrics(path.join(runDir, 'metrics.jsonl'));
    expect(records[0]).toEqual({ step: 0, tokensSeen: 0, valLoss: sourceLoss, wallTime: 0 });
    expect(records.at(-1)!.step).toBe(8);
    expect(loadCheckpoint(runDir).metadata.step).toBe(8);
    expect(logs).toContain(`initial weights: ${source} (checkpoint; fresh optimizer state)`);
  });

  it("does not carry the source's AdamW moments: same losses as from a parameters-only state dict", async () => {
    const stateDict = writeStateDict(path.join(dir, 'state-dict.safetensors'));
    await train(config(path.join(dir, 'from-state-dict'), { initFrom: stateDict }));
    const fromCheckpoint = readMetrics(path.join(dir, 'from-checkpoint', 'metrics.jsonl')).map((r) => [r.step, r.trainLoss, r.valLoss]);
    const fromStateDict = readMetrics(path.join(dir, 'from-state-dict', 'metrics.jsonl')).map((r) => [r.step, r.trainLoss, r.valLoss]);
    expect(fromStateDict).toEqual(fromCheckpoint);
  });

  it('refuses a stray tensor, a mis-shaped one and a missing one before training, naming each', async () => {
    const [first] = transformerParameters(resolveTransformerConfig(TINY_MODEL));
    const stray = writeStateDict(path.join(dir, 'stray.safetensors'), (t) => t.set('layers.7.attn.q_proj.weight', { dtype: 'float32', dims: [16, 16], data: new Float32Array(256) }));
    await expect(train(config(path.join(dir, 'bad'), { initFrom: stray }))).rejects.toThrow(/1 tensor is not parameters of this model \("layers\.7\.attn\.q_proj\.weight"\)/);
    const misshaped = writeStateDict(path.join(dir, 'misshaped.safetensors'), (t) => t.set('_orig_mod.lm_head.weight', { dtype: 'float32', dims: [8, 32], data: new Float32Array(256) }));
    await expect(train(config(path.join(dir, 'bad'), { initFrom: misshaped }))).rejects.toThrow(/"_orig_mod\.lm_head\.weight" has shape \[8, 32\] but the model needs \[16, 16\]/);
    const missing = writeStateDict(path.join(dir, 'missing.safetensors'), (t) => t.delete(`_orig_mod.${first!.name}`));
    await expect(train(config(path.join(dir, 'bad'), { initFrom: missing }))).rejects.toThrow(new RegExp(`missing 1 parameter of this model \\("${first!.name}"\\)`));
    await expect(train(config(path.join(dir, 'bad'), { initFrom: path.join(dir, 'nope.safetensors') }))).rejects.toThrow(/nope\.safetensors does not exist/);
    expect(fs.existsSync(path.join(dir, 'bad', CHECKPOINT_FILE))).toBe(false);
  });
});
