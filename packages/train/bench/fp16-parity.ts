/**
 * Loss-curve parity of fp16 mixed precision against fp32 on real text (an experiment, not a unit test).
 *
 * A byte-level BPE (vocab FP16_VOCAB, default 2048, with <|endoftext|>) is trained on the first
 * FP16_TRAIN_MB (default 8) MB of gutenberg-children train.txt; that prefix and the whole valid.txt are
 * encoded with it. Then train() runs twice from the same seed — same initial weights, same batches,
 * same learning rates — once with precision fp32 and once with fp16, on the bench's "small" model.
 * Validation runs in float32 from the master weights in both, so the curves compare what fp16 training
 * produced, not fp16 evaluation.
 *
 * Writes docs/fp16-parity.json (per-step train loss, validation loss at the eval steps, each step's
 * loss scale and whether it was skipped, the final loss scale, the max relative gap in validation loss)
 * and docs/fp16-parity.svg/.png (the plot; FP16_REPLOT=1 redraws it from the JSON). Progress goes to stderr.
 * Run: pnpm --filter @cs336/train bench:fp16 (build the workspace first). Env: FP16_DATA (the folder
 * holding train.txt and valid.txt; default /work/shared/data/gutenberg-children), FP16_STEPS (400),
 * FP16_THREADS (1), FP16_DEVICE (cpu | cuda), FP16_OUT (docs folder).
 * On the CPU float16 kernels are not faster than float32 (ORT converts inside them), so no speed
 * claims come from this script; the GPU bench (train-bench.ts, BENCH_PRECISION) times it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { trainBpe } from '@cs336/bpe';
import { Tokenizer } from '@cs336/tokenizer';
import { readMetrics, renderPanelsSvg, renderPng, train, type MetricsRecord } from '@cs336/train';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = process.env.FP16_DATA ?? '/work/shared/data/gutenberg-children';
const steps = Number(process.env.FP16_STEPS ?? 400);
const threads = Number(process.env.FP16_THREADS ?? 1);
const vocabSize = Number(process.env.FP16_VOCAB ?? 2048);
const trainMegabytes = Number(process.env.FP16_TRAIN_MB ?? 8);
const device = process.env.FP16_DEVICE ?? 'cpu';
const outDir = process.env.FP16_OUT ?? path.join(here, '../docs');
if (device !== 'cpu' && device !== 'cuda') throw new Error(`FP16_DEVICE must be cpu or cuda, got "${device}"`);
for (const [name, value] of Object.entries({ FP16_STEPS: steps, FP16_THREADS: threads, FP16_VOCAB: vocabSize, FP16_TRAIN_MB: trainMegabytes })) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${value}`);
}
for (const file of ['train.txt', 'valid.txt']) {
  if (!fs.existsSync(path.join(dataDir, file))) throw new Error(`${path.join(dataDir, file)} is missing; set FP16_DATA to the gutenberg-children folder`);
}

const SPECIAL = '<|endoftext|>';
const model = { vocabSize, contextLength: 128, dModel: 128, numLayers: 4, numHeads: 4, dFf: 512 }; // train-bench's "small"
const evalEvery = 50;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fp16-parity-'));
const log = (line: string) => process.stderr.write(`${line}\n`);

/** The first `bytes` of a UTF-8 file, cut back to a whole character. */
function readPrefix(file: string, bytes: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const read = fs.readSync(fd, buffer, 0, bytes, 0);
    let end = read;
    while (end > 0 && (buffer[end - 1]! & 0xc0) === 0x80) end--; // continuation bytes of a cut character
    if (end > 0 && buffer[end - 1]! >= 0xc0) end--;
    return buffer.subarray(0, end).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

function writeTokens(file: string, ids: readonly number[], tokenizerHash: string): string {
  fs.writeFileSync(file, Buffer.from(Uint16Array.from(ids).buffer));
  fs.writeFileSync(`${file}.json`, JSON.stringify({ format: 'cs336-tokens', dtype: 'uint16', count: ids.length, vocabSize, tokenizerHash, source: 'fp16-parity' }));
  return file;
}

async function prepareData(): Promise<{ trainData: string; validationData: string; trainTokens: number; validationTokens: number }> {
  const started = performance.now();
  const text = readPrefix(path.join(dataDir, 'train.txt'), trainMegabytes * 1_000_000);
  async function* pieces() { yield text; }
  const bpe = await trainBpe({ input: pieces(), vocabSize, specialTokens: [SPECIAL] });
  const tokenizer = new Tokenizer(bpe.vocab, bpe.merges, [SPECIAL]);
  const trainIds = tokenizer.encode(text);
  const validIds = tokenizer.encode(fs.readFileSync(path.join(dataDir, 'valid.txt'), 'utf8'));
  log(`data: BPE ${vocabSize} on ${trainMegabytes} MB, ${trainIds.length.toLocaleString('en-US')} train and ${validIds.length.toLocaleString('en-US')} validation tokens (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  return {
    trainData: writeTokens(path.join(work, 'train.bin'), trainIds, tokenizer.hash()),
    validationData: writeTokens(path.join(work, 'valid.bin'), validIds, tokenizer.hash()),
    trainTokens: trainIds.length,
    validationTokens: validIds.length,
  };
}

async function run(precision: 'fp32' | 'fp16', data: { trainData: string; validationData: string }) {
  const runDir = path.join(work, precision);
  const started = performance.now();
  let lastPrinted = 0;
  await train({
    model,
    train: {
      runDir, trainData: data.trainData, validationData: data.validationData, steps, batchSize: 8, stepsPerRun: 8, evalEvery, evalBatches: 8,
      checkpointEvery: steps, warmupSteps: 50, maxLearningRate: 3e-3, minLearningRate: 3e-4, threads, device: device as 'cpu' | 'cuda', seed: 0, precision,
    },
  }, {
    onProgress: (p) => {
      const now = performance.now();
      if (now - lastPrinted < 10_000 && p.step < p.steps) return;
      lastPrinted = now;
      const seconds = (now - started) / 1000;
      const eta = (seconds / p.step) * (p.steps - p.step);
      log(`${precision}: step ${p.step}/${p.steps}, loss ${p.loss.toFixed(4)}, ${Math.round(p.tokensPerSecond)} tokens/s, ETA ${eta.toFixed(0)} s${p.lossScale !== undefined ? `, loss scale ${p.lossScale}` : ''}`);
    },
  });
  return { records: readMetrics(path.join(runDir, 'metrics.jsonl')), seconds: (performance.now() - started) / 1000 };
}

interface ParityResult {
  steps: number;
  maxRelativeValidationGap: number;
  maxRelativeValidationGapStep: number;
  finalLossScale: number | undefined;
  skippedSteps: number[];
  /** Step 0 included (the same untrained model in both). */
  validation: Array<{ step: number; fp32: number; fp16: number }>;
  /** trainLoss.fp32[i] is step i + 1's. */
  trainLoss: { fp32: number[]; fp16: number[] };
}

/** The plot, from the JSON alone (FP16_REPLOT=1 redraws it without training). */
function plot(result: ParityResult): string {
  const colors = { fp32: '#1f77b4', fp16: '#d62728' };
  const byStep = (values: readonly number[]): Array<[number, number]> => values.map((y, i) => [i + 1, y]);
  const validation = (which: 'fp32' | 'fp16'): Array<[number, number]> => result.validation.map((v) => [v.step, v[which]]);
  const gap = result.trainLoss.fp16.map((loss, i) => loss - result.trainLoss.fp32[i]!);
  const scaleNote = `final S ${result.finalLossScale}, ${result.skippedSteps.length} skipped`;
  return renderPanelsSvg([
    { title: 'train loss vs step', xLabel: 'step', yLabel: 'loss', series: [
      { label: 'fp32', color: colors.fp32, points: byStep(result.trainLoss.fp32) },
      { label: 'fp16', color: colors.fp16, points: byStep(result.trainLoss.fp16) },
    ] },
    { title: 'validation loss vs step (float32 eval)', xLabel: 'step', yLabel: 'loss', note: `max relative gap ${(result.maxRelativeValidationGap * 100).toFixed(2)}% (step ${result.maxRelativeValidationGapStep})`, series: [
      { label: 'fp32', color: colors.fp32, points: validation('fp32'), markers: true },
      { label: 'fp16', color: colors.fp16, points: validation('fp16'), markers: true },
    ] },
    { title: 'train loss, fp16 − fp32 (same batches)', xLabel: 'step', yLabel: 'difference', note: scaleNote, series: [
      { label: 'fp16 − fp32', color: colors.fp16, points: byStep(gap) },
    ] },
  ]);
}

function writePlot(result: ParityResult): void {
  const svg = plot(result);
  fs.writeFileSync(path.join(outDir, 'fp16-parity.svg'), svg);
  fs.writeFileSync(path.join(outDir, 'fp16-parity.png'), renderPng(svg));
}

if (process.env.FP16_REPLOT === '1') {
  fs.rmSync(work, { recursive: true, force: true });
  writePlot(JSON.parse(fs.readFileSync(path.join(outDir, 'fp16-parity.json'), 'utf8')) as ParityResult);
  process.exit(0);
}

try {
  const data = await prepareData();
  const fp32 = await run('fp32', data);
  const fp16 = await run('fp16', data);
  const validationOf = (records: readonly MetricsRecord[]) => new Map(records.flatMap((r) => (r.valLoss === undefined ? [] : [[r.step, r.valLoss] as const])));
  const [v32, v16] = [validationOf(fp32.records), validationOf(fp16.records)];
  const validation = [...v32].filter(([step]) => v16.has(step)).map(([step, loss]) => ({ step, fp32: loss, fp16: v16.get(step)! }));
  const gaps = validation.filter((v) => v.step > 0).map((v) => ({ step: v.step, relative: Math.abs(v.fp16 - v.fp32) / v.fp32 }));
  const worst = gaps.reduce((a, b) => (b.relative > a.relative ? b : a));
  const trained = fp16.records.filter((r) => r.trainLoss !== undefined);
  const result = {
    machine: `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores (shared with other jobs), Node ${process.version}; ${threads} ORT thread(s), device ${device}`,
    date: new Date().toISOString(),
    data: { source: dataDir, bpeVocab: vocabSize, trainPrefixMegabytes: trainMegabytes, trainTokens: data.trainTokens, validationTokens: data.validationTokens },
    model, batchSize: 8, steps, evalEvery, evalBatches: 8, maxLearningRate: 3e-3, minLearningRate: 3e-4, warmupSteps: 50,
    maxRelativeValidationGap: worst.relative,
    maxRelativeValidationGapStep: worst.step,
    finalValidationLoss: { fp32: v32.get(steps), fp16: v16.get(steps) },
    finalLossScale: trained.at(-1)?.lossScale,
    skippedSteps: trained.filter((r) => r.skipped).map((r) => r.step),
    // Not a speed comparison: float16 on this CPU is converted inside ORT's kernels.
    wallSeconds: { fp32: Number(fp32.seconds.toFixed(1)), fp16: Number(fp16.seconds.toFixed(1)) },
    validation,
    trainLoss: { fp32: trained.map((r) => fp32.records.find((x) => x.step === r.step)!.trainLoss!), fp16: trained.map((r) => r.trainLoss!) },
    lossScale: trained.map((r) => r.lossScale),
  };
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'fp16-parity.json'), JSON.stringify(result, null, 2) + '\n');
  writePlot(result as ParityResult);
  console.log(JSON.stringify({ maxRelativeValidationGap: result.maxRelativeValidationGap, step: worst.step, finalValidationLoss: result.finalValidationLoss, finalLossScale: result.finalLossScale, skippedSteps: result.skippedSteps, wallSeconds: result.wallSeconds }));
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
