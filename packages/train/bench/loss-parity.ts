/**
 * Loss parity with PyTorch from the same initial weights (issue 15): our trainer and loss-parity.py train
 * the same model from the same weights on the same windows with the same per-step learning rates, and
 * this compares their curves step by step.
 *
 *  1. our init (initParameters, seed 0) → weights.safetensors; the window offsets and learning rates →
 *     schedule.json (loss-parity-inputs.ts), in PARITY_WORK (default a temp folder);
 *  2. ours: TrainingSession over those windows, K steps per run, stopping at every evaluation step;
 *     train loss per step, validation loss at step 0, every evalEvery steps and at the end;
 *  3. PyTorch: `python3 loss-parity.py` once per precision in PARITY_PRECISION, same curves;
 *  4. loss-parity-<device>.json (both curves, per-step differences, the max relative validation-loss
 *     difference at equal steps) and loss-parity-<device>.svg/.png in PARITY_OUT.
 * Exits 1 when any precision's max relative validation-loss difference exceeds PARITY_TOLERANCE (0.02,
 * the target), after writing everything; prints one `skipped` line and exits 0 without PyTorch.
 *
 * Env: PARITY_DEVICE (cpu | cuda; default cpu), PARITY_CONFIG (small | tinystories; default small on
 * cpu, tinystories on cuda), PARITY_STEPS, PARITY_BATCH, PARITY_EVAL_EVERY, PARITY_EVAL_BATCHES,
 * PARITY_K (steps per ORT run, default 10), PARITY_PRECISION (fp32,tf32,bf16,fp64: a list; default fp32;
 * "-sdpa" after one, e.g. fp32-sdpa, runs PyTorch's attention through F.scaled_dot_product_attention), PARITY_THREADS (both sides),
 * PARITY_OURS_FP16=1 (ours also in fp16 mixed precision from the same start, compared with ours fp32 under the same tolerance),
 * PARITY_TRAIN / PARITY_VALID (uint16 token files with vocab ≤ 10k; default /tmp/loss-parity-data from
 * loss-parity-data.sh), PARITY_OUT (default .), PARITY_WORK, PARITY_PYTHON (python3), PARITY_TOLERANCE.
 * Run: pnpm --filter @cs336/train bench:parity (after pnpm build and loss-parity-data.sh).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Device } from '@cs336/graph';
import { initParameters, resolveTransformerConfig } from '@cs336/nn';
import { TokenFile, TrainingSession, buildArtifacts, renderPanelsSvg, renderPng, type PlotPanel } from '@cs336/train';
import { evalSteps, makeParitySchedule, writeParityInputs, type ParityModel, type ParitySchedule } from './loss-parity-inputs.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const env = (name: string, fallback: string) => process.env[name] ?? fallback;
const positive = (name: string, fallback: number) => {
  const value = Number(env(name, String(fallback)));
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name}: give a positive integer, got "${process.env[name]}"`);
  return value;
};

interface ParityConfig { model: ParityModel; batchSize: number; steps: number; evalEvery: number; evalBatches: number }
const CONFIGS: Record<string, ParityConfig> = {
  // CPU-sized: a few minutes for both sides on 2 cores.
  small: { model: { vocabSize: 10_000, contextLength: 64, dModel: 128, numLayers: 2, numHeads: 4, dFf: 512, rmsNormEps: 1e-5 }, batchSize: 16, steps: 300, evalEvery: 25, evalBatches: 8 },
  // The handout's TinyStories model at its batch size (for the GPU).
  tinystories: { model: { vocabSize: 10_000, contextLength: 256, dModel: 512, numLayers: 4, numHeads: 16, dFf: 2048, rmsNormEps: 1e-5 }, batchSize: 128, steps: 200, evalEvery: 25, evalBatches: 4 },
};

const device = env('PARITY_DEVICE', 'cpu') as Device;
if (device !== 'cpu' && device !== 'cuda') throw new Error(`PARITY_DEVICE: cpu or cuda, got "${device}"`);
const configName = env('PARITY_CONFIG', device === 'cuda' ? 'tinystories' : 'small');
const base = CONFIGS[configName];
if (!base) throw new Error(`PARITY_CONFIG: unknown config "${configName}"; choose from ${Object.keys(CONFIGS).join(', ')}`);
const precisions = env('PARITY_PRECISION', 'fp32').split(',').filter((p) => p.length > 0);
for (const p of precisions) if (!/^((fp32|tf32|bf16)(-sdpa)?|fp64)$/.test(p)) throw new Error(`PARITY_PRECISION: fp32, tf32 or bf16, each optionally with -sdpa, or fp64 (a comma list), got "${p}"`);
const B = positive('PARITY_BATCH', base.batchSize);
const steps = positive('PARITY_STEPS', base.steps);
const evalEvery = positive('PARITY_EVAL_EVERY', base.evalEvery);
const evalBatches = positive('PARITY_EVAL_BATCHES', base.evalBatches);
const K = positive('PARITY_K', 10);
// PARITY_OURS_FP16=1: ours also trains in fp16 mixed precision from the same start (compared with ours fp32).
const oursFp16Wanted = process.env.PARITY_OURS_FP16 === '1';
const threads = process.env.PARITY_THREADS ? positive('PARITY_THREADS', 1) : undefined;
const tolerance = Number(env('PARITY_TOLERANCE', '0.02'));
if (!(tolerance > 0)) throw new Error(`PARITY_TOLERANCE: give a positive number, got "${process.env.PARITY_TOLERANCE}"`);
const dataDir = '/tmp/loss-parity-data';
const trainPath = path.resolve(env('PARITY_TRAIN', path.join(dataDir, 'train.bin')));
const validPath = path.resolve(env('PARITY_VALID', path.join(dataDir, 'valid.bin')));
for (const file of [trainPath, validPath]) {
  if (!fs.existsSync(file)) throw new Error(`${file} does not exist; make the token files with bash packages/train/bench/loss-parity-data.sh, or point PARITY_TRAIN / PARITY_VALID at uint16 token files`);
}
const outDir = path.resolve(env('PARITY_OUT', '.'));
const python = env('PARITY_PYTHON', 'python3');
const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
if (probe.status !== 0) {
  console.log(JSON.stringify({ skipped: `no PyTorch: "${python} -c 'import torch'" failed` }));
  process.exit(0);
}

const startedAt = performance.now();
const log = (message: string) => process.stderr.write(`[${((performance.now() - startedAt) / 1000).toFixed(0)}s] ${message}\n`);

// 1. Inputs.
const model = resolveTransformerConfig(base.model);
const T = model.contextLength;
const train = TokenFile.open(trainPath, { dtype: 'uint16', vocabSize: model.vocabSize });
const valid = TokenFile.open(validPath, { dtype: 'uint16', vocabSize: model.vocabSize });
const work = process.env.PARITY_WORK ? path.resolve(process.env.PARITY_WORK) : fs.mkdtempSync(path.join(os.tmpdir(), 'loss-parity-'));
const optimizer = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1 };
const warmup = Math.max(1, Math.round(steps / 10));
const schedule = makeParitySchedule({
  model: base.model, optimizer, batchSize: B, contextLength: T, steps, evalEvery, evalBatches,
  learningRate: { maxLearningRate: 2e-3, minLearningRate: 2e-4, warmupIters: warmup, cosineCycleIters: steps },
  trainTokens: trainPath, validTokens: validPath, trainTokenCount: train.length, validTokenCount: valid.length, seed: 1,
});
const initial = initParameters(model, { seed: 0 }) as Record<string, Float32Array>;
writeParityInputs(work, schedule, initial);
log(`inputs in ${work}: ${configName} (d ${model.dModel}, ${model.numLayers} layers, T ${T}), B ${B}, ${steps} steps, device ${device}`);

/** Flat [n, T+1] windows at the given offsets, as our graphs take them. */
function readWindows(tokens: TokenFile, starts: readonly number[][]): BigInt64Array {
  const out = new BigInt64Array(starts.length * B * (T + 1));
  starts.forEach((row, k) => row.forEach((start, b) => tokens.read(start, T + 1, out, (k * B + b) * (T + 1))));
  return out;
}

// 2. Ours.
async function trainOurs(s: ParitySchedule, precision: 'fp32' | 'fp16' = 'fp32') {
  const artifactsDir = path.join(work, `artifacts-${precision}`);
  const { manifest } = buildArtifacts(artifactsDir, { model, batchSize: B, contextLength: T, precision },
    precision === 'fp16' ? { ...s.optimizer, lossScaleWindow: 2000 } : s.optimizer);
  const session = await TrainingSession.create(artifactsDir, manifest, TrainingSession.freshState(initial, manifest), { device, ...(threads ? { threads } : {}) });
  const validationLoss = async () => {
    let sum = 0;
    for (const row of s.validStarts) sum += await session.evaluate(readWindows(valid, [row]));
    return sum / s.validStarts.length;
  };
  const evalAt = evalSteps(s);
  const trainLoss: number[] = [];
  const gradNorm: number[] = [];
  let skipped = 0;
  const validLoss: Record<string, number> = {};
  const start = performance.now();
  let lastReport = start;
  for (let k = 0; k < s.steps;) {
    if (evalAt.includes(k)) validLoss[k] = await validationLoss();
    const next = Math.min(k + K, evalAt.find((e) => e > k)!);
    const result = await session.runSteps(readWindows(train, s.trainStarts.slice(k, next)), Float32Array.from(s.learningRates.slice(k, next)));
    trainLoss.push(...result.losses);
    gradNorm.push(...result.gradNorms);
    skipped += result.skipped?.filter(Boolean).length ?? 0;
    k = next;
    if (performance.now() - lastReport > 10_000 || k === s.steps) {
      const rate = k / ((performance.now() - start) / 1000);
      log(`ours ${precision} ${k}/${s.steps} steps, ${rate.toFixed(2)} steps/s, ETA ${((s.steps - k) / rate).toFixed(0)} s, loss ${trainLoss.at(-1)!.toFixed(4)}`);
      lastReport = performance.now();
    }
  }
  validLoss[s.steps] = await validationLoss();
  const seconds = (performance.now() - start) / 1000;
  const lossScale = session.state.lossScale?.scale;
  await session.release();
  return { seconds, trainLoss, gradNorm, validLoss, skipped, ...(lossScale !== undefined ? { finalLossScale: lossScale } : {}) };
}

const ours = await trainOurs(schedule);
const oursFp16 = oursFp16Wanted ? await trainOurs(schedule, 'fp16') : undefined;
interface TorchCurves { seconds: number; trainLoss: number[]; gradNorm: number[]; validLoss: Record<string, number>; [key: string]: unknown }
const theirs: Record<string, TorchCurves | { error: string }> = {};
const stem = path.join(outDir, `loss-parity-${device}`);
// Written after our side and again after each PyTorch run, so a run cut short keeps what it finished.
let report = writeResults();

// 3. PyTorch, once per precision.
for (const precision of precisions) {
  const out = path.join(work, `torch-${precision}.json`);
  const args = [path.join(here, 'loss-parity.py'), work, out, '--device', device, '--precision', precision.replace('-sdpa', '')];
  if (threads) args.push('--threads', String(threads));
  if (precision.endsWith('-sdpa')) args.push('--sdpa');
  log(`torch ${precision}: ${python} ${args.join(' ')}`);
  const run = spawnSync(python, args, { stdio: ['ignore', 'inherit', 'inherit'], env: threads ? { ...process.env, OMP_NUM_THREADS: String(threads) } : process.env });
  theirs[precision] = run.status === 0 ? (JSON.parse(fs.readFileSync(out, 'utf8')) as TorchCurves) : { error: `loss-parity.py exited with ${run.status ?? run.signal}` };
  report = writeResults();
}
if (!process.env.PARITY_WORK) fs.rmSync(work, { recursive: true, force: true });
const { ours: _ours, torch: _torch, ...summary } = report;
console.log(JSON.stringify(summary, null, 2));
log(`wrote ${stem}.json, .svg, .png`);
const failed = precisions.filter((p) => !(report.comparisons[p] as { withinTolerance?: boolean } | undefined)?.withinTolerance);
if (report.oursFp16AgainstOursFp32 && !report.oursFp16AgainstOursFp32.withinTolerance) failed.push('ours fp16 vs ours fp32');
if (failed.length > 0) {
  log(`FAILED: max relative validation-loss difference above ${tolerance} (or the run failed) for ${failed.join(', ')}`);
  process.exit(1);
}

// 4. Compare, write, plot.
function writeResults() {
  const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
  const round = (x: number, digits = 6) => Number(x.toPrecision(digits));
  const comparisons = Object.fromEntries(Object.entries(theirs).map(([precision, t]) => {
    if ('error' in t) return [precision, { error: t.error }];
    const validSteps = Object.keys(ours.validLoss).map(Number);
    const validRelative = validSteps.map((k) => relative(ours.validLoss[k]!, t.validLoss[k]!));
    const trainRelative = ours.trainLoss.map((loss, k) => relative(loss, t.trainLoss[k]!));
    const maxValid = Math.max(...validRelative);
    return [precision, {
      maxRelativeValidLossDifference: round(maxValid, 4),
      maxRelativeTrainLossDifference: round(Math.max(...trainRelative), 4),
      meanRelativeTrainLossDifference: round(trainRelative.reduce((a, b) => a + b, 0) / trainRelative.length, 4),
      finalValidLoss: { ours: round(ours.validLoss[steps]!), torch: round(t.validLoss[String(steps)]!) },
      withinTolerance: maxValid <= tolerance,
      torchSeconds: round(t.seconds, 4),
      validRelativeDifference: Object.fromEntries(validSteps.map((k, i) => [k, round(validRelative[i]!, 4)])),
    }];
  }));
  // Controls, PyTorch against PyTorch: X-sdpa against X (same math, other attention kernels), and every
  // precision against fp64 (the exact-arithmetic yardstick; ours against it is comparisons.fp64).
  const pairs: Array<[string, string]> = Object.keys(theirs).flatMap((p): Array<[string, string]> => [
    ...(theirs[`${p}-sdpa`] ? [[`${p}-sdpa`, p] as [string, string]] : []),
    ...(p !== 'fp64' && theirs['fp64'] ? [[p, 'fp64'] as [string, string]] : []),
  ]);
  const controls = Object.fromEntries(pairs.flatMap(([a, b]) => {
    const [x, y] = [theirs[a]!, theirs[b]!];
    if ('error' in x || 'error' in y) return [];
    const validRelative = Object.keys(y.validLoss).map((k) => relative(x.validLoss[k]!, y.validLoss[k]!));
    const trainRelative = y.trainLoss.map((loss, k) => relative(x.trainLoss[k]!, loss));
    return [[`PyTorch ${a} vs ${b}`, {
      maxRelativeValidLossDifference: round(Math.max(...validRelative), 4),
      maxRelativeTrainLossDifference: round(Math.max(...trainRelative), 4),
      meanRelativeTrainLossDifference: round(trainRelative.reduce((a, b) => a + b, 0) / trainRelative.length, 4),
    }]];
  }));
  // Ours in fp16 against ours in fp32 (the mixed-precision target: within the tolerance at equal steps).
  const fp16Comparison = oursFp16 && (() => {
    const validSteps = Object.keys(ours.validLoss).map(Number);
    const validRelative = validSteps.map((k) => relative(oursFp16.validLoss[k]!, ours.validLoss[k]!));
    const trainRelative = ours.trainLoss.map((loss, k) => relative(oursFp16.trainLoss[k]!, loss));
    return {
      maxRelativeValidLossDifference: round(Math.max(...validRelative), 4),
      maxRelativeTrainLossDifference: round(Math.max(...trainRelative), 4),
      finalValidLoss: { fp32: round(ours.validLoss[steps]!), fp16: round(oursFp16.validLoss[steps]!) },
      withinTolerance: Math.max(...validRelative) <= tolerance,
      skippedSteps: oursFp16.skipped, finalLossScale: oursFp16.finalLossScale, seconds: round(oursFp16.seconds, 4),
    };
  })();
  const result = {
    config: configName, device, model: base!.model, batchSize: B, contextLength: T, steps, evalEvery, evalBatches, stepsPerRun: K,
    optimizer, learningRate: schedule.notes['learningRate'], seed: { weights: 0, windows: 1 },
    data: { train: path.basename(trainPath), trainTokens: train.length, valid: path.basename(validPath), validTokens: valid.length },
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', node: process.version, onnxruntime: '1.29.0', torch: probe.stdout.trim(), threads: threads ?? 'default', loadAverage: os.loadavg().map((x) => round(x, 2)) },
    tolerance, ok: precisions.every((p) => (comparisons[p] as { withinTolerance?: boolean } | undefined)?.withinTolerance === true) && (fp16Comparison?.withinTolerance ?? true),
    comparisons, torchAgainstTorch: controls, ...(fp16Comparison ? { oursFp16AgainstOursFp32: fp16Comparison } : {}),
    ours: { seconds: round(ours.seconds, 4), trainLoss: ours.trainLoss.map((x) => round(x)), gradNorm: ours.gradNorm.map((x) => round(x)), validLoss: ours.validLoss },
    torch: Object.fromEntries(Object.entries(theirs).map(([p, t]) => [p, 'error' in t ? t : { ...t, trainLoss: t.trainLoss.map((x) => round(x)), gradNorm: t.gradNorm.map((x) => round(x)) }])),
  };

  const COLORS: Record<string, string> = { ours: '#1f77b4', 'ours-fp16': '#000000', fp32: '#ff7f0e', tf32: '#2ca02c', bf16: '#d62728', 'fp32-sdpa': '#9467bd', 'tf32-sdpa': '#8c564b', 'bf16-sdpa': '#e377c2', fp64: '#17becf' };
  const curves = Object.entries(theirs).filter((e): e is [string, TorchCurves] => !('error' in e[1]));
  const byStep = (losses: number[]): Array<[number, number]> => losses.map((loss, k) => [k + 1, loss]);
  const byEval = (losses: Record<string, number>): Array<[number, number]> => Object.entries(losses).map(([k, loss]) => [Number(k), loss]);
  // Ours drawn last, on top: where the curves agree, the PyTorch line disappears under it.
  const panels: PlotPanel[] = [
    { title: 'train loss (before each step)', xLabel: 'step', series: [...curves.map(([p, t]) => ({ label: `PyTorch ${p}`, color: COLORS[p]!, points: byStep(t.trainLoss) })), ...(oursFp16 ? [{ label: 'ours fp16 (ORT)', color: COLORS['ours-fp16']!, points: byStep(oursFp16.trainLoss) }] : []), { label: 'ours (ORT)', color: COLORS['ours']!, points: byStep(ours.trainLoss) }] },
    { title: 'validation loss', xLabel: 'step', series: [...curves.map(([p, t]) => ({ label: `PyTorch ${p}`, color: COLORS[p]!, points: byEval(t.validLoss), markers: true })), ...(oursFp16 ? [{ label: 'ours fp16 (ORT)', color: COLORS['ours-fp16']!, points: byEval(oursFp16.validLoss), markers: true }] : []), { label: 'ours (ORT)', color: COLORS['ours']!, points: byEval(ours.validLoss), markers: true }] },
    {
      title: oursFp16 ? 'relative differences: ours vs PyTorch, ours fp16 vs fp32 (line train, dots validation)' : '|ours − PyTorch| / PyTorch (line train, dots validation)', xLabel: 'step', yLabel: 'relative difference', logY: true,
      series: curves.flatMap(([p, t]) => [
        { label: `train vs ${p}`, color: COLORS[p]!, points: ours.trainLoss.map((loss, k): [number, number] => [k + 1, relative(loss, t.trainLoss[k]!)]) },
        { label: `validation vs ${p}`, color: COLORS[p]!, markers: true, points: byEval(ours.validLoss).map(([k, loss]): [number, number] => [k, relative(loss, t.validLoss[String(k)]!)]) },
      ]).concat(pairs.filter(([a, b]) => !('error' in theirs[a]!) && !('error' in theirs[b]!)).map(([a, b]) => {
        const [x, y] = [theirs[a] as TorchCurves, theirs[b] as TorchCurves];
        return { label: `PyTorch ${a} vs ${b}, train`, color: '#999', points: y.trainLoss.map((loss, k): [number, number] => [k + 1, relative(x.trainLoss[k]!, loss)]) };
      })).concat(oursFp16 ? [{ label: 'ours fp16 vs ours fp32, train', color: COLORS['ours-fp16']!, points: ours.trainLoss.map((loss, k): [number, number] => [k + 1, relative(oursFp16.trainLoss[k]!, loss)]) }] : []),
    },
  ];
  const writeAtomic = (file: string, data: string | Uint8Array) => {
    fs.writeFileSync(`${file}.tmp`, data);
    fs.renameSync(`${file}.tmp`, file);
  };
  fs.mkdirSync(outDir, { recursive: true });
  writeAtomic(`${stem}.json`, `${JSON.stringify(result, null, 2)}\n`);
  const svg = renderPanelsSvg(panels);
  writeAtomic(`${stem}.svg`, svg);
  writeAtomic(`${stem}.png`, renderPng(svg));
  return result;
}
