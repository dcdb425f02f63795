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
import { describeWithFixtures, fixturePath, readNpy } from '../../../test-support/fixtures.js';

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

describeWithFixtures('initFrom with the course state dict', () => {
  // transformer_lm_weights.pt, saved as safetensors under its own keys (what safetensors.torch.save_file writes),
  // and the course's LM config; the reference is PyTorch's own logits for in_indices (transformer_lm_expected_output).
  const COURSE_LM = { vocabSize: 100, contextLength: 64, dModel: 128, numLayers: 2, numHeads: 2, dFf: 512 };
  const npyDir = (...parts: string[]) => fixturePath('derived', 'npy', ...parts);

  it("step 0 evaluates to the cross-entropy of PyTorch's logits for the same tokens", async () => {
    const tensors = new Map<string, Tensor>();
    for (const file of fs.readdirSync(npyDir('transformer_lm_weights'))) {
      const array = readNpy(npyDir('transformer_lm_weights', file));
      tensors.set(file.replace(/\.npy$/, ''), { dtype: 'float32', dims: array.shape, data: array.data as Float32Array });
    }
    const stateDict = path.join(dir, 'course-lm.safetensors');
    writeSafetensors(stateDict, tensors);
    const indices = readNpy(npyDir('in_indices.npy')); // [8, 64] int64
    const row = Uint16Array.from((indices.data as BigInt64Array).subarray(0, 64), Number);
    const rowFile = path.join(dir, 'course-row0.bin');
    fs.writeFileSync(rowFile, Buffer.from(row.buffer));
    const allFile = path.join(dir, 'course-all.bin');
    fs.writeFileSync(allFile, Buffer.from(Uint16Array.from(indices.data as BigInt64Array, Number).buffer));

    const runDir = path.join(dir, 'course');
    // One window of T + 1 = 64 tokens = row 0: positions 0..62 predict tokens 1..63.
    await train({ model: COURSE_LM, train: { runDir, trainData: allFile, validationData: rowFile, initFrom: stateDict, contextLength: 63, batchSize: 1, evalBatches: 1, steps: 1, stepsPerRun: 1, warmupSteps: 0, threads: 1, dataDtype: 'uint16' } });
    const stepZero = readMetrics(path.join(runDir, 'metrics.jsonl'))[0]!;

    const logits = readNpy(npyDir('transformer_lm_expected_output.npy')); // [8, 64, 100] float32 from PyTorch
    const V = 100;
    let total = 0;
    for (let t = 0; t < 63; t++) {
      const values = Array.from((logits.data as Float32Array).subarray(t * V, (t + 1) * V));
      const max = Math.max(...values);
      total += Math.log(values.reduce((sum, x) => sum + Math.exp(x - max), 0)) + max - values[row[t + 1]!]!;
    }
    const expected = total / 63;
    expect(stepZero.step).toBe(0);
    expect(Math.abs(stepZero.valLoss! - expected)).toBeLessThan(1e-5 * expected);
  });
});
