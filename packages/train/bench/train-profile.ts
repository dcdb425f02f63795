/**
 * Where a fused training step spends its time: runs the train_step graph with ORT's profiler on and
 * prints kernel time by part of the step (forward, loss, backward, clip, AdamW; matmuls apart from the
 * rest), the ONNX Loop's own overhead, and the costliest node kinds. The raw chrome-trace JSON stays
 * in the temp folder printed at the end (open it in chrome://tracing or Perfetto).
 * Run: tsx bench/train-profile.ts (build first). Env: PROFILE_CONFIG small | course-256, BENCH_THREADS.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initParameters, resolveTransformerConfig, type TransformerConfig } from '@cs336/nn';
import { Random, TrainingSession, buildArtifacts } from '@cs336/train';

const MODELS: Record<string, Partial<TransformerConfig>> = {
  small: { vocabSize: 2048, contextLength: 128, dModel: 128, numLayers: 4, numHeads: 4, dFf: 512 },
  'course-256': { vocabSize: 10_000, contextLength: 128, dModel: 256, numLayers: 4, numHeads: 8, dFf: 1024 },
};
const name = process.env.PROFILE_CONFIG ?? 'course-256';
const threads = Number(process.env.BENCH_THREADS ?? os.availableParallelism());
const model = resolveTransformerConfig(MODELS[name] ?? {});
const [B, T, K, runs] = [8, 128, 4, 3];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'train-profile-'));
const artifacts = buildArtifacts(dir, { model, batchSize: B, contextLength: T }, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1 });
const state = TrainingSession.freshState(initParameters(model, { seed: 0 }), artifacts.manifest);
const session = await TrainingSession.create(dir, artifacts.manifest, state, { threads, profilePrefix: path.join(dir, 'ort-profile') });
const random = Random.seeded(7);
const lrs = new Float32Array(K).fill(1e-3);
for (let r = 0; r < runs; r++) await session.runSteps(BigInt64Array.from({ length: K * B * (T + 1) }, () => BigInt(random.nextInt(model.vocabSize))), lrs);
await session.release();

interface TraceEvent { cat?: string; name: string; dur: number; args?: { op_name?: string } }
const file = fs.readdirSync(dir).find((f) => f.startsWith('ort-profile'));
if (!file) throw new Error(`train-profile: ORT wrote no profile into ${dir}`);
const events = (JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as TraceEvent[])
  .filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
// Node names carry the builder's scopes ("grad/…", "adamw/…"); unscoped nodes are the forward pass.
const SCOPES = new Set(['grad', 'adamw', 'clip', 'loss']);
const byPart = new Map<string, number>();
const byOp = new Map<string, number>();
let loopMicros = 0;
for (const e of events) {
  const op = e.args?.op_name ?? '?';
  if (op === 'Loop') { loopMicros += e.dur; continue; }
  const scope = e.name.split('/')[0]!;
  const part = (SCOPES.has(scope) ? scope : 'forward') + (op.includes('MatMul') ? ' matmul' : '');
  byPart.set(part, (byPart.get(part) ?? 0) + e.dur);
  byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
}
const body = [...byPart.values()].reduce((a, b) => a + b, 0);
const share = (m: Map<string, number>, top: number) =>
  Object.fromEntries([...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => [k, Number((v / body).toFixed(3))]));
console.log(JSON.stringify({
  config: name, threads, steps: runs * K,
  kernelMsPerStep: Number((body / 1000 / (runs * K)).toFixed(2)),
  loopOverheadShare: Number(((loopMicros - body) / loopMicros).toFixed(3)),
  shareByPart: share(byPart, 20),
  shareByOp: share(byOp, 12),
  profile: path.join(dir, file),
}, null, 2));
