/**
 * The training loop end to end on a tiny model: exact resume after SIGINT and SIGKILL (child
 * processes, 1 ORT thread), NaN handling, bad input, and generation from the checkpoint.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { referenceTransformerLm, resolveTransformerConfig } from '@cs336/nn';
import { createHash } from 'node:crypto';
import { CHECKPOINT_FILE, loadCheckpoint, readCheckpointMetadata } from './checkpoint.js';
import { RunStateError } from './run-identity.js';
import { readMetrics } from './metrics.js';
import { InferenceModel } from './training-session.js';
import { NonFiniteLossError, train, type TrainRunConfig } from './train.js';
import { TINY_MODEL, writeTokenFile } from '../test/tiny-run.js';

const here = path.dirname(fileURLToPath(import.meta.url));
let dir: string;
let trainData: string;
let validationData: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'train-loop-'));
  trainData = writeTokenFile(path.join(dir, 'data/train.bin'), 5000, 1);
  validationData = writeTokenFile(path.join(dir, 'data/valid.bin'), 1000, 2);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function runConfig(runDir: string, extra: Record<string, unknown> = {}): TrainRunConfig {
  return {
    model: TINY_MODEL,
    train: {
      runDir, trainData, validationData, steps: 24, stepsPerRun: 2, batchSize: 4, evalEvery: 4, evalBatches: 2, checkpointEvery: 4,
      warmupSteps: 2, maxLearningRate: 1e-2, minLearningRate: 1e-3, threads: 1, seed: 7, ...extra,
    },
  };
}

interface ChildRun { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs train() in a child; when `interruptAt` is given, sends `signal` once "step N" (N ≥ interruptAt) is printed. */
function runChild(config: TrainRunConfig, interrupt?: { at: number; signal: NodeJS.Signals }): Promise<ChildRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, '../test/train-child.ts'), JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TSX_TSCONFIG_PATH: path.join(here, '../test/tsconfig.child.json'), STEP_DELAY_MS: interrupt ? '10' : '0' },
  });
  let stdout = '';
  let stderr = '';
  let sent = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    const steps = [...stdout.matchAll(/^step (\d+)$/gm)].map((m) => Number(m[1]));
    if (interrupt && !sent && steps.some((s) => s >= interrupt.at)) {
      sent = true;
      child.kill(interrupt.signal);
    }
  });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

function losses(runDir: string): Array<{ step: number; trainLoss?: number; valLoss?: number }> {
  return readMetrics(path.join(runDir, 'metrics.jsonl')).map(({ step, trainLoss, valLoss }) => ({ step, ...(trainLoss !== undefined ? { trainLoss } : {}), ...(valLoss !== undefined ? { valLoss } : {}) }));
}

describe('train() exact resume', () => {
  let reference: ReturnType<typeof losses>;

  beforeAll(async () => {
    const run = await runChild(runConfig(path.join(dir, 'uninterrupted')));
    expect(run).toMatchObject({ code: 0, signal: null });
    reference = losses(path.join(dir, 'uninterrupted'));
  });

  it('an uninterrupted run validates at step 0, logs every step, validates every 4 steps, and the loss falls', () => {
    expect(reference.map((r) => r.step)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(reference.filter((r) => r.valLoss !== undefined).map((r) => r.step)).toEqual([0, 4, 8, 12, 16, 20, 24]);
    expect(Object.keys(reference[0]!)).toEqual(['step', 'valLoss']); // step 0: no update ran, so no train loss
    expect(reference[24]!.trainLoss!).toBeLessThan(reference[1]!.trainLoss!);
    expect(reference[24]!.valLoss!).toBeLessThan(reference[0]!.valLoss!);
    expect(reference[1]!.trainLoss!).toBeGreaterThan(Math.log(16) - 0.3); // starts near ln(vocab)
    for (const file of ['loss-curve.svg', 'loss-curve.png', CHECKPOINT_FILE]) expect(fs.existsSync(path.join(dir, 'uninterrupted', file))).toBe(true);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('%s saves a checkpoint and exits 0; --resume replays the same losses bit for bit', async (signal) => {
    const runDir = path.join(dir, signal.toLowerCase());
    const first = await runChild(runConfig(runDir), { at: 5, signal });
    expect({ code: first.code, signal: first.signal }).toEqual({ code: 0, signal: null });
    const stoppedAt = loadCheckpoint(runDir).metadata.step;
    expect(stoppedAt).toBeGreaterThanOrEqual(5);
    expect(stoppedAt).toBeLessThan(24);
    const second = await runChild({ ...runConfig(runDir), resume: true });
    expect(second.code).toBe(0);
    expect(second.stderr).toBe('');
    expect(losses(runDir)).toEqual(reference);
  });

  it('SIGKILL loses only the steps after the last checkpoint; resuming replays the same losses bit for bit', async () => {
    const runDir = path.join(dir, 'sigkill');
    const first = await runChild(runConfig(runDir), { at: 6, signal: 'SIGKILL' });
    expect(first.signal).toBe('SIGKILL');
    const saved = loadCheckpoint(runDir).metadata.step; // the last periodic checkpoint before the kill
    expect(saved % 4).toBe(0);
    expect(saved).toBeGreaterThanOrEqual(4);
    expect(saved).toBeLessThan(24);
    const second = await runChild({ ...runConfig(runDir), resume: true });
    expect(second.code).toBe(0);
    expect(losses(runDir)).toEqual(reference);
  });

  it('refuses to resume a checkpoint from another model config', async () => {
    const config = runConfig(path.join(dir, 'uninterrupted'));
    await expect(train({ ...config, model: { ...TINY_MODEL, dModel: 32 }, resume: true })).rejects.toThrow(/another model config \(dModel: 16 in the checkpoint, 32 now\)/);
  });

  it('generates from the checkpoint with logits equal to the float64 reference forward', async () => {
    const runDir = path.join(dir, 'uninterrupted');
    const checkpoint = loadCheckpoint(runDir);
    const model = await InferenceModel.fromCheckpoint(runDir, { threads: 1 });
    const ids = [3, 4, 5];
    const logits = await model.nextTokenLogits(ids);
    const weights = Object.fromEntries([...checkpoint.parameters].map(([n, t]) => [n, t.data as Float32Array]));
    const reference = referenceTransformerLm(resolveTransformerConfig(TINY_MODEL), weights, ids, 1, 3).subarray(2 * 16, 3 * 16);
    for (let i = 0; i < 16; i++) expect(logits[i]).toBeCloseTo(reference[i]!, 4);
    await model.release();
  });
});

describe('train() bad input', () => {
  it('stops on a NaN loss with a clear message and keeps the last good checkpoint', async () => {
    const runDir = path.join(dir, 'nan');
    await train(runConfig(runDir, { steps: 4 }));
    const error = await train({ ...runConfig(runDir, { steps: 24, maxLearningRate: 1e30, minLearningRate: 1e30, warmupSteps: 0 }), resume: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteLossError);
    expect((error as Error).message).toMatch(/loss is (NaN|Infinity|-Infinity) .*at step \d+.*last good checkpoint \(step 4\) is kept/);
    expect(loadCheckpoint(runDir).metadata.step).toBe(4);
  });

  it('names the file and offset of a token id beyond the vocabulary', async () => {
    const bad = writeTokenFile(path.join(dir, 'data/big-ids.bin'), 200, 3, 64); // ids up to 63, model vocab 16
    await expect(train(runConfig(path.join(dir, 'bad-ids'), { trainData: bad })))
      .rejects.toThrow(/big-ids\.bin: tokenized with a vocabulary of 64 but the model has only 16/);
    fs.rmSync(`${bad}.json`); // without the sidecar: the dtype must be given, and the full scan finds the first bad id before step 1
    await expect(train(runConfig(path.join(dir, 'bad-ids'), { trainData: bad }))).rejects.toThrow(/big-ids\.bin: no sidecar/);
    const firstBad = Array.from(new Uint16Array(Uint8Array.from(fs.readFileSync(bad)).buffer)).findIndex((id) => id >= 16);
    let started = false;
    const onStart = () => { started = true; };
    await expect(train(runConfig(path.join(dir, 'bad-ids'), { trainData: bad, dataDtype: 'uint16' }), { onStart }))
      .rejects.toThrow(new RegExp(`big-ids\\.bin: token id \\d+ at token offset ${firstBad} is not below the vocabulary size 16`));
    expect(started).toBe(false);
    expect(fs.existsSync(path.join(dir, 'bad-ids', 'metrics.jsonl'))).toBe(false);
  });

  it('checks the ids in the read that hashes the data; a later start reads nothing; a rewritten file is checked again', async () => {
    const file = writeTokenFile(path.join(dir, 'data/cached-ids.bin'), 3000, 5);
    const valid = writeTokenFile(path.join(dir, 'data/cached-valid.bin'), 1000, 6);
    const dataLine = async (runDir: string) => {
      const lines: string[] = [];
      await train(runConfig(path.join(dir, runDir), { trainData: file, validationData: valid, steps: 2 }), { log: (line) => lines.push(line) });
      return lines.find((line) => line.startsWith('data: '));
    };
    expect(await dataLine('cached-1')).toMatch(/^data: every id below 16 \(0\.0 MB read and hashed in [\d.]+ s\)/); // 8000 bytes
    expect(await dataLine('cached-2')).toMatch(/known from the hash cache/);
    // Rewritten in place (same size, a later mtime) with one id beyond the vocabulary: read and refused again.
    const ids = new Uint16Array(Uint8Array.from(fs.readFileSync(file)).buffer);
    ids[2345] = 999;
    fs.writeFileSync(file, Buffer.from(ids.buffer));
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    await expect(train(runConfig(path.join(dir, 'cached-3'), { trainData: file, validationData: valid })))
      .rejects.toThrow(/cached-ids\.bin: token id 999 at token offset 2345 is not below the vocabulary size 16/);
  });

  it('refuses a validation file too small for one evaluation batch at start, naming the flags that help', async () => {
    const small = writeTokenFile(path.join(dir, 'data/small-valid.bin'), 20, 4); // 2 windows of 9 < batch 4
    let started = false;
    const onStart = () => { started = true; };
    await expect(train(runConfig(path.join(dir, 'small-valid'), { validationData: small }), { onStart }))
      .rejects.toThrow(/small-valid\.bin: 20 validation tokens make 2 windows of 9, fewer than one evaluation batch of 4; lower --batch-size or --context-length/);
    expect(started).toBe(false);
  });

  it('refuses a context longer than the model', async () => {
    await expect(train(runConfig(path.join(dir, 'long'), { contextLength: 9 }))).rejects.toThrow(/contextLength 9 is longer than the model's contextLength 8/);
  });
});

describe('train() run-directory state (no stale or foreign state reused)', () => {
  const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

  it('records the content hashes of the token files and the tokenizer in the checkpoint', async () => {
    const runDir = path.join(dir, 'identity');
    await train(runConfig(runDir, { steps: 2 }));
    const meta = readCheckpointMetadata(runDir)!;
    expect(meta.tokenizerHash).toBe('synthetic');
    expect(meta.data).toEqual({ trainData: sha256(trainData), validationData: sha256(validationData) });
    expect(meta.step).toBe(loadCheckpoint(runDir).metadata.step); // the header-only read agrees with the full load
  });

  it('refuses to replace a checkpoint without resume or fresh, and fresh starts over', async () => {
    const runDir = path.join(dir, 'refuse');
    await train(runConfig(runDir, { steps: 4 }));
    const before = fs.readFileSync(path.join(runDir, CHECKPOINT_FILE));
    const error = await train(runConfig(runDir, { steps: 4 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunStateError);
    expect((error as Error).message).toBe(`${runDir} already holds a checkpoint (step 4 of 4, trained on tokenizer synthetic, train data ${sha256(trainData).slice(0, 12)}, validation data ${sha256(validationData).slice(0, 12)}). Pass --resume to continue it, --fresh to replace it, or choose a new --run-dir.`);
    expect(fs.readFileSync(path.join(runDir, CHECKPOINT_FILE)).equals(before)).toBe(true);
    await expect(train({ ...runConfig(runDir), resume: true, fresh: true })).rejects.toThrow(/exclude each other/);

    const fresh = await train({ ...runConfig(runDir, { steps: 2 }), fresh: true });
    expect(fresh.step).toBe(2);
    expect(readMetrics(path.join(runDir, 'metrics.jsonl')).map((r) => r.step)).toEqual([0, 1, 2]); // the step-0 evaluation, then the two steps
  });

  it('refuses to resume on other data or another tokenizer, naming both identities', async () => {
    const runDir = path.join(dir, 'foreign');
    await train(runConfig(runDir, { steps: 2 }));
    const otherData = writeTokenFile(path.join(dir, 'data/other.bin'), 5000, 9);
    const error = await train({ ...runConfig(runDir, { steps: 4, trainData: otherData }), resume: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunStateError);
    const message = (error as Error).message;
    expect(message).toContain(`${path.join(runDir, CHECKPOINT_FILE)} (step 2) was trained on other data: its train data does not match this run's.`);
    expect(message).toContain(`checkpoint: tokenizer synthetic, train data ${sha256(trainData).slice(0, 12)}`);
    expect(message).toContain(`now:        tokenizer synthetic, train data ${sha256(otherData).slice(0, 12)}`);
    expect(message).toMatch(/--fresh .*new --run-dir/);

    // The same ids under another tokenizer's sidecar: the tokenizer differs, the bytes do not.
    const retokenize = (file: string) => {
      const to = path.join(dir, `data/re-${path.basename(file)}`);
      fs.copyFileSync(file, to);
      fs.writeFileSync(`${to}.json`, fs.readFileSync(`${file}.json`, 'utf8').replace('"synthetic"', '"another-tokenizer"'));
      return to;
    };
    await expect(train({ ...runConfig(runDir, { steps: 4, trainData: retokenize(trainData), validationData: retokenize(validationData) }), resume: true }))
      .rejects.toThrow(/was trained on other data: its tokenizer does not match this run's\.\n {2}checkpoint: tokenizer synthetic, .*\n {2}now: {8}tokenizer another-toke/);
    // Train and validation files from two tokenizers are refused outright.
    await expect(train(runConfig(path.join(dir, 'mixed'), { trainData: retokenize(trainData) }))).rejects.toThrow(/valid\.bin was tokenized with tokenizer synthetic, .*re-train\.bin with another-toke/);
    expect(readCheckpointMetadata(runDir)!.step).toBe(2);

    // The same bytes under another path are the same data: resuming is allowed.
    const copy = path.join(dir, 'data/copy.bin');
    fs.copyFileSync(trainData, copy);
    fs.copyFileSync(`${trainData}.json`, `${copy}.json`);
    expect((await train({ ...runConfig(runDir, { steps: 4, trainData: copy }), resume: true })).step).toBe(4);
  });
});

describe('train() hooks', () => {
  it('stops after the current chunk when the AbortSignal fires, with a checkpoint, and reports each stage', async () => {
    const runDir = path.join(dir, 'abort');
    const controller = new AbortController();
    const seen: string[] = [];
    const result = await train(runConfig(runDir), {
      signal: controller.signal,
      onStart: (info) => seen.push(`start ${info.step}/${info.steps}`),
      onStep: (record) => { if (record.step === 3) controller.abort(); },
      onProgress: (p) => seen.push(`progress ${p.step}`),
      onCheckpoint: (_file, step) => seen.push(`checkpoint ${step}`),
    });
    expect(result).toMatchObject({ step: 4, interrupted: true });
    expect(seen).toEqual(['start 0/24', 'progress 2', 'progress 4', 'checkpoint 4']);
    expect(loadCheckpoint(runDir).metadata.step).toBe(4);
  });
});
