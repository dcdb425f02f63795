/**
 * Our training step against PyTorch's on the same CPU, alternated in one run (issue 16), printed as JSON.
 *
 * For each config (course-256 and the TinyStories model, both at B 8) and thread count (1 and 2), it
 * opens our TrainingSession and one warm torch-reference.py worker per PyTorch variant, measures both
 * sides' MatMul peak, then runs rounds: ours S steps (one runSteps call, K = S), each torch variant S
 * steps, again... Each side's rate is the median over rounds; the ratio is ours / theirs. Alternating
 * keeps slow drifts of a shared machine (other jobs) from landing on one side only.
 *
 * Skips with one line when `python3 -c 'import torch'` fails. Env: BENCH_CONFIGS (course-256,tinystories),
 * BENCH_THREADS_LIST (2,1), BENCH_ROUNDS (5), BENCH_TORCH_VARIANTS (eager,sdpa,compile,bf16: at the
 * highest thread count; lower counts run eager only), BENCH_OURS_VARIANTS (default; see OURS_VARIANTS).
 * BENCH_OUT: also write the JSON to this file, rewritten (temp + rename) after every block, so a run cut
 * short keeps the blocks it finished. Progress goes to stderr, the JSON to stdout.
 * Run: pnpm --filter @cs336/train bench:torch (build the workspace first).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { SessionOptions } from '@cs336/graph';
import { initParameters, resolveTransformerConfig, type TransformerConfig } from '@cs336/nn';
import { Random, TrainingSession, buildArtifacts } from '@cs336/train';
import { matMulPeak } from './matmul-peak.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const python = process.env.BENCH_PYTHON ?? 'python3';
const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
if (probe.status !== 0) {
  console.log(JSON.stringify({ skipped: `no PyTorch: "${python} -c 'import torch'" failed` }));
  process.exit(0);
}
const torchVersion = probe.stdout.trim();

interface BenchConfig { name: string; model: Partial<TransformerConfig>; batchSize: number; stepsPerRound: number }
const CONFIGS: BenchConfig[] = [
  { name: 'course-256', model: { vocabSize: 10_000, contextLength: 128, dModel: 256, numLayers: 4, numHeads: 8, dFf: 1024 }, batchSize: 8, stepsPerRound: 4 },
  { name: 'tinystories', model: { vocabSize: 10_000, contextLength: 256, dModel: 512, numLayers: 4, numHeads: 16, dFf: 2048 }, batchSize: 8, stepsPerRound: 2 },
];
/** Variants of our side, for measuring a change against the default in the same run. */
const OURS_VARIANTS: Record<string, SessionOptions> = {
  default: {},
  extended: { optimizationLevel: 'extended' },
};

const list = (name: string, fallback: string) => (process.env[name] ?? fallback).split(',').filter((s) => s.length > 0);
const configs = list('BENCH_CONFIGS', 'course-256,tinystories').map((name) => {
  const config = CONFIGS.find((c) => c.name === name);
  if (!config) throw new Error(`BENCH_CONFIGS: unknown config "${name}"; choose from ${CONFIGS.map((c) => c.name).join(', ')}`);
  return config;
});
const threadCounts = list('BENCH_THREADS_LIST', '2,1').map(Number);
if (threadCounts.some((t) => !Number.isInteger(t) || t < 1)) throw new Error(`BENCH_THREADS_LIST: give positive integers, got "${threadCounts.join(',')}"`);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`BENCH_ROUNDS: give a positive integer, got "${process.env.BENCH_ROUNDS}"`);
const torchVariants = list('BENCH_TORCH_VARIANTS', 'eager,sdpa,compile,bf16');
for (const v of torchVariants) if (!['eager', 'sdpa', 'compile', 'bf16'].includes(v)) throw new Error(`BENCH_TORCH_VARIANTS: unknown variant "${v}"`);
const oursVariants = list('BENCH_OURS_VARIANTS', 'default');
for (const v of oursVariants) if (!(v in OURS_VARIANTS)) throw new Error(`BENCH_OURS_VARIANTS: unknown variant "${v}"; choose from ${Object.keys(OURS_VARIANTS).join(', ')}`);
const hasCompiler = spawnSync('g++', ['--version']).status === 0;

/** One warm torch-reference.py process: a command line in, one JSON line out. */
class TorchWorker {
  private readonly lines: AsyncIterator<string>;
  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }

  static async start(config: BenchConfig, threads: number, variant: string): Promise<TorchWorker> {
    const model = resolveTransformerConfig(config.model);
    const spec = { vocabSize: model.vocabSize, contextLength: model.contextLength, dModel: model.dModel, numLayers: model.numLayers, numHeads: model.numHeads, dFf: model.dFf, rmsNormEps: model.rmsNormEps, batchSize: config.batchSize };
    const child = spawn(python, [path.join(here, 'torch-reference.py'), JSON.stringify(spec), String(threads), variant], {
      // One pool of `threads` workers, like ORT's intra-op pool; no nested inter-op parallelism.
      env: { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-2000); });
    const worker = new TorchWorker(child);
    worker.stderrTail = () => stderr;
    await worker.next();
    return worker;
  }

  stderrTail: () => string = () => '';

  private async next(): Promise<Record<string, unknown>> {
    const line = await this.lines.next();
    if (line.done) throw new Error(`torch worker exited: ${this.stderrTail().trim().split('\n').slice(-3).join(' | ')}`);
    return JSON.parse(line.value) as Record<string, unknown>;
  }

  async ask(command: string): Promise<Record<string, unknown>> {
    this.child.stdin.write(`${command}\n`);
    return this.next();
  }

  async quit(): Promise<void> {
    this.child.stdin.end('quit\n');
    await new Promise((resolve) => this.child.once('exit', resolve));
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const round1 = (x: number) => Number(x.toFixed(1));
const startedAt = performance.now();
const log = (message: string) => process.stderr.write(`[${((performance.now() - startedAt) / 1000).toFixed(0)}s] ${message}\n`);

async function benchBlock(config: BenchConfig, threads: number, variants: string[]) {
  const model = resolveTransformerConfig(config.model);
  const B = config.batchSize;
  const T = model.contextLength;
  const S = config.stepsPerRound;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-side-by-side-'));
  const artifacts = buildArtifacts(dir, { model, batchSize: B, contextLength: T }, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1 });
  const ours = new Map<string, TrainingSession>();
  for (const name of oursVariants) {
    const state = TrainingSession.freshState(initParameters(model, { seed: 0 }), artifacts.manifest);
    ours.set(name, await TrainingSession.create(dir, artifacts.manifest, state, { ...OURS_VARIANTS[name], threads }));
  }
  const random = Random.seeded(7);
  const tokens = () => BigInt64Array.from({ length: S * B * (T + 1) }, () => BigInt(random.nextInt(model.vocabSize)));
  const lrs = new Float32Array(S).fill(1e-3);
  const workers = new Map<string, TorchWorker>();
  const failures: Record<string, string> = {};
  for (const variant of variants) {
    if (variant === 'compile' && !hasCompiler) { failures[variant] = 'torch.compile needs a C++ compiler (g++ not found)'; continue; }
    try {
      const worker = await TorchWorker.start(config, threads, variant);
      const warm = await worker.ask('warmup 2'); // compile happens here
      log(`${config.name} ${threads}t torch ${variant}: warm-up ${Number(warm['seconds']).toFixed(1)} s`);
      workers.set(variant, worker);
    } catch (error) {
      failures[variant] = (error as Error).message;
    }
  }
  for (const session of ours.values()) await session.runSteps(tokens(), lrs); // warm-up

  // Peaks first, alternated too: ORT 1024², torch 1024², ORT 2048², torch 2048².
  const peaks: Record<string, Record<string, number>> = { ours: {}, torchFp32: {}, torchBf16: {} };
  const peakWorker = workers.get('eager') ?? workers.values().next().value;
  for (const n of [1024, 2048]) {
    peaks['ours']![n] = round1((await matMulPeak(n, { threads })) / 1e9);
    if (peakWorker) {
      const p = await peakWorker.ask(`peak ${n}`);
      peaks['torchFp32']![n] = round1(Number(p['fp32']));
      peaks['torchBf16']![n] = round1(Number(p['bf16']));
    }
  }

  log(`${config.name} ${threads}t MatMul peaks (GFLOP/s): ${JSON.stringify(peaks)}`);
  const seconds = new Map<string, number[]>([...[...ours.keys()].map((k) => `ours:${k}`), ...[...workers.keys()].map((k) => `torch:${k}`)].map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, session] of ours) {
      const batch = tokens();
      const start = performance.now();
      await session.runSteps(batch, lrs);
      seconds.get(`ours:${name}`)!.push((performance.now() - start) / 1000 / S);
    }
    for (const [variant, worker] of workers) {
      const answer = await worker.ask(`steps ${S}`);
      seconds.get(`torch:${variant}`)!.push(Number(answer['seconds']) / S);
    }
    const roundTokens = [...seconds].map(([k, v]) => `${k} ${Math.round((B * T) / v[v.length - 1]!)}`).join(', ');
    log(`${config.name} ${threads}t round ${r + 1}/${rounds}: tokens/s ${roundTokens}`);
  }
  for (const session of ours.values()) await session.release();
  for (const worker of workers.values()) await worker.quit();
  fs.rmSync(dir, { recursive: true, force: true });

  const tokensPerSecond = Object.fromEntries([...seconds].map(([k, v]) => [k, Math.round((B * T) / median(v))]));
  const reference = tokensPerSecond['ours:default'] ?? Object.values(tokensPerSecond)[0]!;
  const ratios = Object.fromEntries(Object.entries(tokensPerSecond).filter(([k]) => k.startsWith('torch:')).map(([k, v]) => [`ours/${k.slice(6)}`, Number((reference / v).toFixed(3))]));
  for (const [k, v] of Object.entries(tokensPerSecond)) if (k.startsWith('ours:') && k !== 'ours:default') ratios[`${k.slice(5)}/default`] = Number((v / reference).toFixed(3));
  return {
    config: config.name, threads, batchSize: B, contextLength: T, stepsPerRound: S, rounds,
    tokensPerSecondMedian: tokensPerSecond, ratioOfMedians: ratios,
    secondsPerStep: Object.fromEntries([...seconds].map(([k, v]) => [k, v.map((x) => Number(x.toFixed(3)))])),
    matMulPeakGflops: peaks, failures,
  };
}

const loadBefore = os.loadavg();
const blocks: Awaited<ReturnType<typeof benchBlock>>[] = [];
const report = () => ({
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadAverageBefore: loadBefore.map(round1), loadAverageAfter: os.loadavg().map(round1) },
  torch: torchVersion,
  onnxruntime: '1.29.0',
  blocks,
});
const out = process.env.BENCH_OUT;
const maxThreads = Math.max(...threadCounts);
// Thread counts outermost, in the order given: BENCH_THREADS_LIST=2,1 measures every config at 2 threads first.
for (const threads of threadCounts) {
  for (const config of configs) {
    const variants = threads === maxThreads ? torchVariants : torchVariants.filter((v) => v === 'eager');
    blocks.push(await benchBlock(config, threads, variants));
    if (out) {
      fs.writeFileSync(`${out}.tmp`, JSON.stringify(report(), null, 2));
      fs.renameSync(`${out}.tmp`, out);
    }
  }
}
console.log(JSON.stringify(report(), null, 2));
