/**
 * Where a fused training step spends its time: runs the train_step graph with ORT's profiler on and
 * prints kernel time by part of the step (forward, loss, backward, clip, AdamW; matmuls apart from the
 * rest), the ONNX Loop's own overhead, and per op type its share of the step, ms per step, calls per
 * step and, for MatMul/FusedMatMul/Gemm, the FLOPs (from the shapes ORT records) and achieved GFLOP/s.
 * The raw chrome-trace JSON stays in the temp folder printed at the end (chrome://tracing or Perfetto).
 * With PROFILE_OPTIMIZED=1 the optimized model ORT runs is saved beside it (which fusions fired).
 * Run: pnpm --filter @cs336/train bench:profile (build first). Env: PROFILE_CONFIG small | course-256 |
 * tinystories, BENCH_THREADS, PROFILE_BATCH (8).
 * The PyTorch side of the same step: printf 'warmup 2\nprofile 3\nquit\n' | python3 bench/torch-reference.py CONFIG THREADS eager.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initParameters, resolveTransformerConfig, type TransformerConfig } from '@cs336/nn';
import { Random, TrainingSession, buildArtifacts } from '@cs336/train';

const MODELS: Record<string, Partial<TransformerConfig>> = {
  small: { vocabSize: 2048, contextLength: 128, dModel: 128, numLayers: 4, numHeads: 4, dFf: 512 },
  'course-256': { vocabSize: 10_000, contextLength: 128, dModel: 256, numLayers: 4, numHeads: 8, dFf: 1024 },
  tinystories: { vocabSize: 10_000, contextLength: 256, dModel: 512, numLayers: 4, numHeads: 16, dFf: 2048 },
};
const name = process.env.PROFILE_CONFIG ?? 'course-256';
if (!MODELS[name]) throw new Error(`PROFILE_CONFIG: unknown config "${name}"; choose from ${Object.keys(MODELS).join(', ')}`);
const threads = Number(process.env.BENCH_THREADS ?? os.availableParallelism());
const model = resolveTransformerConfig(MODELS[name]);
const B = Number(process.env.PROFILE_BATCH ?? 8);
const T = model.contextLength;
const [K, runs] = [2, 2];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'train-profile-'));
const artifacts = buildArtifacts(dir, { model, batchSize: B, contextLength: T }, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1 });
const state = TrainingSession.freshState(initParameters(model, { seed: 0 }), artifacts.manifest);
const random = Random.seeded(7);
const lrs = new Float32Array(K).fill(1e-3);
const tokens = () => BigInt64Array.from({ length: K * B * (T + 1) }, () => BigInt(random.nextInt(model.vocabSize)));
// A warm-up run outside the profile: the first run allocates.
const warm = await TrainingSession.create(dir, artifacts.manifest, state, {
  threads, ...(process.env.PROFILE_OPTIMIZED === '1' ? { optimizedModelPath: path.join(dir, 'optimized.onnx') } : {}),
});
await warm.runSteps(tokens(), lrs);
await warm.release();
const session = await TrainingSession.create(dir, artifacts.manifest, state, { threads, profilePrefix: path.join(dir, 'ort-profile') });
await session.runSteps(tokens(), lrs);
session.runSeconds = 0;
for (let r = 1; r < runs; r++) await session.runSteps(tokens(), lrs);
const wallMsPerStep = (session.runSeconds * 1000) / ((runs - 1) * K);
await session.release();

interface TraceEvent { cat?: string; name: string; dur: number; args?: { op_name?: string; input_type_shape?: Record<string, number[]>[]; output_type_shape?: Record<string, number[]>[] } }
const file = fs.readdirSync(dir).find((f) => f.startsWith('ort-profile'));
if (!file) throw new Error(`train-profile: ORT wrote no profile into ${dir}`);
const events = (JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as TraceEvent[])
  .filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));

const dimsOf = (shapes: Record<string, number[]>[] | undefined, i: number): number[] => Object.values(shapes?.[i] ?? {})[0] ?? [];
const count = (dims: number[]) => dims.reduce((a, b) => a * b, 1);
/** 2·(output elements)·K. K is the dim of A's last two that is not M (either one when A is square). */
function matMulFlops(e: TraceEvent): number {
  const a = dimsOf(e.args?.input_type_shape, 0);
  const out = dimsOf(e.args?.output_type_shape, 0);
  if (a.length < 2 || out.length < 2) return 0;
  const m = out[out.length - 2]!;
  const [a0, a1] = [a[a.length - 2]!, a[a.length - 1]!];
  const k = a1 === m && a0 !== m ? a0 : a1;
  return 2 * count(out) * k;
}

const SCOPES = new Set(['grad', 'adamw', 'clip', 'loss']);
const byPart = new Map<string, number>();
const byOp = new Map<string, { micros: number; calls: number; flops: number }>();
let loopMicros = 0;
const steps = runs * K;
for (const e of events) {
  const op = e.args?.op_name ?? '?';
  if (op === 'Loop') { loopMicros += e.dur; continue; }
  const scope = e.name.split('/')[0]!;
  const isMatMul = op.includes('MatMul') || op === 'Gemm';
  const part = (SCOPES.has(scope) ? scope : 'forward') + (isMatMul ? ' matmul' : '');
  byPart.set(part, (byPart.get(part) ?? 0) + e.dur);
  const row = byOp.get(op) ?? { micros: 0, calls: 0, flops: 0 };
  row.micros += e.dur;
  row.calls += 1;
  if (isMatMul) row.flops += matMulFlops(e);
  byOp.set(op, row);
}
const body = [...byPart.values()].reduce((a, b) => a + b, 0);
const byShare = (m: Map<string, number>) => Object.fromEntries([...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Number((v / body).toFixed(3))]));
console.log(JSON.stringify({
  config: name, batchSize: B, threads, steps, loadAverage: os.loadavg().map((x) => Number(x.toFixed(1))),
  wallMsPerStep: Number(wallMsPerStep.toFixed(1)),
  kernelMsPerStep: Number((body / 1000 / steps).toFixed(2)),
  loopOverheadShare: Number(((loopMicros - body) / loopMicros).toFixed(3)),
  shareByPart: byShare(byPart),
  byOp: [...byOp].sort((a, b) => b[1].micros - a[1].micros).slice(0, 16).map(([op, r]) => ({
    op, share: Number((r.micros / body).toFixed(3)), msPerStep: Number((r.micros / 1000 / steps).toFixed(2)), callsPerStep: r.calls / steps,
    ...(r.flops > 0 ? { gflopPerStep: Number((r.flops / 1e9 / steps).toFixed(2)), gflops: Number((r.flops / r.micros / 1e3).toFixed(1)) } : {}),
  })),
  profile: path.join(dir, file),
}, null, 2));
