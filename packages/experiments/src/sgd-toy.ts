/**
 * The handout's SGD toy (§4.2): a 10×10 tensor w drawn as 5·N(0, 1), the loss mean(w²), plain SGD with
 * the decaying rate lr/√(t+1), for a handful of steps. It shows what too large a learning rate does
 * without any model or data in the way: the gradient is 2w/100, so one step scales w by
 * 1 − 2·lr/(100·√(t+1)); at lr 1e1 the loss falls, at 1e2 the first step flips w's sign (same loss)
 * and then it falls fast, at 1e3 every step multiplies |w| by more than 1 and the loss explodes.
 *
 * Records go to metrics.jsonl in the LM runs' format, so the report draws them the same way:
 * trainLoss is the loss before step s's update, valLoss the loss after it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sgdStep } from '@cs336/optim';
import { METRICS_FILE, MetricsLog, Random, type MetricsRecord } from '@cs336/train';

export const SGD_TOY_SIZE = 10;

/** A standard normal from two uniforms (Box–Muller), so the toy needs nothing but the seeded generator. */
function normal(random: Random): number {
  const u = 1 - random.nextFloat();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextFloat());
}

function meanSquare(w: Float64Array): number {
  let total = 0;
  for (const x of w) total += x * x;
  return total / w.length;
}

/** Runs the toy into `runDir`; `onStep` sees each record (the runner's divergence check). */
export function runSgdToy(runDir: string, options: { lr: number; steps: number; seed: number }, onStep: (record: MetricsRecord) => boolean | void): MetricsRecord[] {
  fs.mkdirSync(runDir, { recursive: true });
  const random = Random.seeded(options.seed);
  const w = Float64Array.from({ length: SGD_TOY_SIZE * SGD_TOY_SIZE }, () => 5 * normal(random));
  const metrics = new MetricsLog(path.join(runDir, METRICS_FILE), -1); // seconds of work: always from scratch
  const started = performance.now();
  for (let t = 0; t < options.steps; t++) {
    const loss = meanSquare(w);
    const gradient = w.map((x) => (2 * x) / w.length);
    let norm = 0;
    for (const g of gradient) norm += g * g;
    sgdStep([w], [gradient], { lr: options.lr, inverseSqrtDecay: true }, t);
    const record: MetricsRecord = { step: t + 1, tokensSeen: 0, trainLoss: loss, valLoss: meanSquare(w), lr: options.lr / Math.sqrt(t + 1), gradNorm: Math.sqrt(norm), tokensPerSecond: 0, wallTime: (performance.now() - started) / 1000 };
    metrics.append(record);
    if (onStep(record) === false) break;
  }
  return metrics.records;
}
