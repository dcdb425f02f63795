/**
 * @cs336/graph bench. Prints one JSON object:
 *  - runOverhead: time per Session.run vs raw onnxruntime-node on a one-element Add (the fixed cost
 *    of this layer: feed checks and result wrapping), and MatMul GFLOP/s both ways on the same model;
 *  - backwardVsForward: node counts and run times of forward-only vs forward+backward graphs for an
 *    MLP and a transformer-like block (ideal time ratio ≈ 3: forward + 2× forward for backward);
 *  - optimization: 'all' vs 'disabled' run time, max difference, and the op types ORT fused;
 *  - loopVsHostSteps: K training steps inside one ONNX Loop vs K runs with parameters fed back.
 * Both sides of every comparison run in this process, interleaved, with the same thread count.
 *
 * Run: pnpm --filter @cs336/graph bench   (env BENCH_QUICK=1 for a fast smoke run, BENCH_THREADS=n,
 * BENCH_ONLY=overhead|backward|optimization|loop for one section)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { GraphBuilder } from '../src/graph-builder.js';
import { decodeModel } from '../src/onnx-proto.js';
import * as op from '../src/ops.js';
import { Session } from '../src/session.js';
import type { HostTensor, Value } from '../src/value.js';
import { gradients } from '../src/autodiff.js';
import { loop } from '../src/loop.js';
import { hostTensor } from '../src/value.js';
import { mlp, randomFeeds, transformerLikeBlock } from '../test/models.js';

const QUICK = process.env.BENCH_QUICK === '1';
const THREADS = Number(process.env.BENCH_THREADS ?? 1);
/** BENCH_ONLY=overhead|backward|optimization|loop runs one section. */
const ONLY = process.env.BENCH_ONLY ?? '';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

interface PairTiming {
  /** Median time per call, ms. */
  aMs: number;
  bMs: number;
  /** Median over back-to-back pairs of a/b − 1, in percent: robust to load spikes on a shared machine. */
  aOverBPercent: number;
}

/**
 * Times `a` and `b` in back-to-back pairs (order alternating), `calls` pairs after a warm-up, so that
 * both see the same machine load; medians discard the pairs a load spike hit.
 */
async function timePair(a: () => Promise<unknown>, b: () => Promise<unknown>, calls: number): Promise<PairTiming> {
  for (let i = 0; i < Math.min(calls, 5); i++) {
    await a();
    await b();
  }
  const timed = async (f: () => Promise<unknown>) => {
    const start = process.hrtime.bigint();
    await f();
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  const ta: number[] = [];
  const tb: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < calls; i++) {
    let x: number;
    let y: number;
    if (i % 2 === 0) {
      x = await timed(a);
      y = await timed(b);
    } else {
      y = await timed(b);
      x = await timed(a);
    }
    ta.push(x);
    tb.push(y);
    ratios.push(x / y);
  }
  return { aMs: median(ta), bMs: median(tb), aOverBPercent: (median(ratios) - 1) * 100 };
}

function toOrtFeeds(feeds: Record<string, HostTensor>): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) out[name] = new ort.Tensor(t.dtype, t.data as ort.Tensor.DataType, t.dims);
  return out;
}

async function layerVsRaw(g: GraphBuilder, feeds: Record<string, HostTensor>, calls: number) {
  const model = g.toModel();
  const ours = await Session.create(model, { threads: THREADS });
  const raw = await ort.InferenceSession.create(model, { intraOpNumThreads: THREADS, executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  // The raw side builds its ort.Tensors per call too, as any caller must.
  const t = await timePair(
    () => ours.run(feeds),
    () => raw.run(toOrtFeeds(feeds)),
    calls,
  );
  await ours.release();
  await raw.release();
  return { layerMs: t.aMs, rawMs: t.bMs, overheadPercent: t.aOverBPercent };
}

async function runOverhead() {
  const tiny = new GraphBuilder('tiny');
  tiny.output(op.add(tiny.input('x', 'float32', [1]), 1), 'y');
  const tinyResult = await layerVsRaw(tiny, { x: hostTensor('float32', [1], [1]) }, QUICK ? 500 : 20000);

  const n = QUICK ? 256 : 512;
  const mm = new GraphBuilder('matmul');
  mm.output(op.matMul(mm.input('a', 'float32', [n, n]), mm.input('b', 'float32', [n, n])), 'c');
  const feeds = { a: hostTensor('float32', [n, n], new Float32Array(n * n).fill(0.5)), b: hostTensor('float32', [n, n], new Float32Array(n * n).fill(0.25)) };
  const mmResult = await layerVsRaw(mm, feeds, QUICK ? 20 : 300);
  const flop = 2 * n * n * n;
  return {
    perRunOnTinyAdd: { layerMicroseconds: tinyResult.layerMs * 1000, rawMicroseconds: tinyResult.rawMs * 1000, overheadPercent: tinyResult.overheadPercent },
    matMul: {
      shape: `[${n},${n}] x [${n},${n}] float32`,
      layerGflops: flop / (mmResult.layerMs * 1e6),
      rawGflops: flop / (mmResult.rawMs * 1e6),
      overheadPercent: mmResult.overheadPercent,
      withinFivePercent: mmResult.overheadPercent <= 5,
    },
  };
}

async function backwardVsForward() {
  const cases: Array<{ name: string; model: ReturnType<typeof mlp>; dims: Record<string, number> }> = [
    { name: 'mlp 512→1024→512, N=256', model: mlp(512, 1024, 512), dims: { N: QUICK ? 64 : 256 } },
    { name: 'transformer-like block d=256, B=4, T=128', model: transformerLikeBlock(256), dims: { B: 4, T: QUICK ? 32 : 128 } },
  ];
  const results = [];
  for (const c of cases) {
    const forwardFeeds = randomFeeds(c.model.forward, c.dims, 1);
    const trainingFeeds = randomFeeds(c.model.training, c.dims, 1);
    const forward = await Session.create(c.model.forward, { threads: THREADS });
    const training = await Session.create(c.model.training, { threads: THREADS });
    const t = await timePair(() => training.run(trainingFeeds), () => forward.run(forwardFeeds), QUICK ? 10 : 60);
    const [forwardMs, trainingMs] = [t.bMs, t.aMs];
    await forward.release();
    await training.release();
    const forwardNodes = decodeModel(c.model.forward.toModel()).graph.node.length;
    const trainingNodes = decodeModel(c.model.training.toModel()).graph.node.length;
    results.push({
      model: c.name,
      forwardNodes,
      backwardNodes: trainingNodes - forwardNodes,
      backwardToForwardNodeRatio: (trainingNodes - forwardNodes) / forwardNodes,
      forwardMs,
      forwardPlusBackwardMs: trainingMs,
      forwardPlusBackwardToForwardTimeRatio: 1 + t.aOverBPercent / 100,
      backwardToForwardTimeRatio: t.aOverBPercent / 100,
    });
  }
  return results;
}

async function optimization() {
  const model = transformerLikeBlock(QUICK ? 64 : 256).training;
  const feeds = randomFeeds(model, { B: 4, T: QUICK ? 32 : 128 }, 2);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs336-graph-bench-'));
  try {
    const optimizedPath = path.join(dir, 'optimized.onnx');
    const all = await Session.create(model, { threads: THREADS, optimizationLevel: 'all', optimizedModelPath: optimizedPath });
    const disabled = await Session.create(model, { threads: THREADS, optimizationLevel: 'disabled' });
    const a = await all.run(feeds);
    const b = await disabled.run(feeds);
    let maxAbsDiff = 0;
    let maxAbs = 0;
    for (const name of Object.keys(b)) {
      const x = a[name]!.data as Float32Array;
      const y = b[name]!.data as Float32Array;
      for (let i = 0; i < y.length; i++) {
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(x[i]! - y[i]!));
        maxAbs = Math.max(maxAbs, Math.abs(y[i]!));
      }
    }
    const t = await timePair(() => all.run(feeds), () => disabled.run(feeds), QUICK ? 10 : 60);
    await all.release();
    await disabled.release();
    const count = (nodes: Array<{ opType: string; domain?: string }>) => {
      const counts: Record<string, number> = {};
      for (const n of nodes) {
        const key = n.domain ? `${n.domain}.${n.opType}` : n.opType;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      return counts;
    };
    const before = count(decodeModel(model.toModel()).graph.node);
    const after = count(decodeModel(fs.readFileSync(optimizedPath)).graph.node);
    return {
      model: 'transformer-like block, forward + backward',
      allMs: t.aMs,
      disabledMs: t.bMs,
      allVsDisabledPercent: t.aOverBPercent,
      maxAbsDiff,
      maxAbsValue: maxAbs,
      nodesBefore: Object.values(before).reduce((p, q) => p + q, 0),
      nodesAfter: Object.values(after).reduce((p, q) => p + q, 0),
      opsIntroducedByOrt: Object.fromEntries(Object.entries(after).filter(([k]) => !(k in before))),
      opCountChanges: Object.fromEntries(Object.keys({ ...before, ...after }).filter((k) => (before[k] ?? 0) !== (after[k] ?? 0)).map((k) => [k, `${before[k] ?? 0} → ${after[k] ?? 0}`])),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * K SGD steps of an MLP as one Loop per run vs one run per step (parameters fed back from the host):
 * what moving the training loop into the graph saves per step.
 */
async function loopVsHostSteps() {
  const [n, dIn, hidden, steps] = [QUICK ? 64 : 256, 256, 512, 8];
  const build = (k: number | undefined) => {
    const g = new GraphBuilder(k ? 'sgd_loop' : 'sgd_step');
    const x = g.input('x', 'float32', ['N', dIn]);
    const params = [g.parameter('w1', 'float32', [hidden, dIn]), g.parameter('w2', 'float32', [dIn, hidden])];
    const step = (current: Value[]) => {
      const [w1, w2] = current as [Value, Value];
      const out = op.matMul(op.relu(op.matMul(x, op.transpose(w1))), op.transpose(w2));
      const err = op.sub(out, x);
      const loss = op.reduceMean(op.mul(err, err), [0, 1], false);
      const grads = gradients(loss, current);
      return { carried: current.map((p, i) => op.sub(p, op.mul(grads[i]!, 0.01))), scanOutputs: [loss] };
    };
    const result = k ? loop(g, { tripCount: k, carried: params, body: (_b, _i, c) => step(c) }) : step(params);
    result.carried.forEach((v, i) => g.output(v, `${params[i]!.name}_next`));
    g.output(k ? op.reduceMean(result.scanOutputs[0]!, [0], false) : result.scanOutputs[0]!, 'loss');
    return g;
  };
  const looped = await Session.create(build(steps), { threads: THREADS });
  const single = await Session.create(build(undefined), { threads: THREADS });
  const feeds = randomFeeds(build(undefined), { N: n }, 3);
  const hostLoop = async () => {
    let current = feeds;
    for (let i = 0; i < steps; i++) {
      const out = await single.run(current);
      current = { x: feeds.x!, w1: out.w1_next!, w2: out.w2_next! };
    }
  };
  const t = await timePair(() => looped.run(feeds), hostLoop, QUICK ? 4 : 20);
  await looped.release();
  await single.release();
  return {
    model: `MLP ${dIn}→${hidden}→${dIn}, N=${n}, ${steps} SGD steps`,
    loopMsPerStep: t.aMs / steps,
    hostRunsMsPerStep: t.bMs / steps,
    loopVsHostPercent: t.aOverBPercent,
  };
}

const started = Date.now();
const result = {
  bench: '@cs336/graph',
  machine: `${os.cpus()[0]?.model ?? 'unknown cpu'} × ${os.cpus().length}, ${os.platform()} ${os.arch()}, node ${process.version}, onnxruntime-node 1.29.0 CPU`,
  threads: THREADS,
  quick: QUICK,
  runOverhead: ONLY === '' || ONLY === 'overhead' ? await runOverhead() : undefined,
  backwardVsForward: ONLY === '' || ONLY === 'backward' ? await backwardVsForward() : undefined,
  optimization: ONLY === '' || ONLY === 'optimization' ? await optimization() : undefined,
  loopVsHostSteps: ONLY === '' || ONLY === 'loop' ? await loopVsHostSteps() : undefined,
  seconds: (Date.now() - started) / 1000,
};
console.log(JSON.stringify(result, null, 2));
