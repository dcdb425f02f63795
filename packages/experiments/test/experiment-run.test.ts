/**
 * A tiny experiment end to end: three variants (one diverges) in child processes, the report read
 * back and checked against each variant's metrics.jsonl, a re-run that trains nothing, and a variant
 * SIGKILLed mid-run that resumes and replays the uninterrupted per-step losses bit for bit (1 thread).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readMetrics, type MetricsRecord } from '@cs336/train';
import { parseExperimentSpec, type ExperimentSpec } from '../src/experiment-spec.js';
import { runExperiment, type RunnerEvent } from '../src/experiment-runner.js';
import { writeExperimentReport } from '../src/experiment-report.js';
import { readStatus } from '../src/variant-worker.js';
import { testWorker, writeTinyData } from './tiny-data.js';

const TINY_MODEL = { 'model.contextLength': 16, 'model.dModel': 16, 'model.numLayers': 1, 'model.numHeads': 2, 'model.dFf': 32 };

function tinySpec(name: string, variants: Record<string, Record<string, number>>, train: Record<string, number>): ExperimentSpec {
  const scale = { overrides: { ...TINY_MODEL, ...train } };
  return parseExperimentSpec({
    name, description: 'test', sweep: 'maxLearningRate',
    base: { batchSize: 4, stepsPerRun: 4, minLearningRate: 1e-5, warmupSteps: 2, evalBatches: 2, seed: 1 },
    variants, scales: { tiny: scale, cpu: scale, handout: scale },
    divergence: { aboveStart: 1, aboveMinRatio: 0, afterStep: 4, smoothing: 0.1 }, // only the start rule, so the test can re-derive the step
    sample: { prompt: 'the cat', temperature: 0.8, topP: 0.95, maxNewTokens: 256, seed: 0 },
  });
}

const SWEEP = tinySpec('sweep', { 'lr-3e-3': { maxLearningRate: 3e-3 }, 'lr-3e-2': { maxLearningRate: 3e-2 }, 'lr-30': { maxLearningRate: 30 } }, { steps: 24, evalEvery: 4, checkpointEvery: 8 });
const LONG = tinySpec('long', { only: { maxLearningRate: 1e-2 } }, { steps: 40, evalEvery: 8, checkpointEvery: 8 });

/** Table rows of report.md by variant name (✕ stripped), cells trimmed. */
function tableRows(markdown: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.startsWith('| variant |'));
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line.slice(1, -1).split(' | ').map((c) => c.trim());
    rows.set(cells[0]!.replace(/ ✕$/, ''), cells);
  }
  return rows;
}

/** Polylines of an SVG: the series each belongs to, whether dashed, and whether marked diverged. */
function seriesOf(svg: string): Array<{ series: string; diverged: boolean; dashed: boolean }> {
  return [...svg.matchAll(/<polyline ([^>]*)\/>/g)].map((m) => ({
    series: /data-series="([^"]+)"/.exec(m[1]!)?.[1] ?? '',
    diverged: m[1]!.includes('data-diverged="true"'),
    dashed: m[1]!.includes('stroke-dasharray'),
  }));
}

describe('cs336 experiment on a tiny spec', () => {
  let dir: string;
  let data: string;
  const events: RunnerEvent[] = [];
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'experiment-'));
    data = await writeTinyData(path.join(dir, 'data'));
    await runExperiment({ spec: SWEEP, scale: 'tiny', dataDir: data, outDir: path.join(dir, 'runs'), threads: 1, jobs: 2, worker: testWorker(), onEvent: (e) => events.push(e) });
    await writeExperimentReport(path.join(dir, 'runs', 'sweep'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const variantDir = (name: string) => path.join(dir, 'runs', 'sweep', name);
  const reportFile = (name: string) => path.join(dir, 'runs', 'sweep', name);

  it('runs every variant; the one at lr 30 diverges and is stopped at the first step the rule names', () => {
    expect(readStatus(variantDir('lr-3e-3'))?.state).toBe('done');
    expect(readStatus(variantDir('lr-3e-2'))?.state).toBe('done');
    const status = readStatus(variantDir('lr-30'))!;
    expect(status.state).toBe('diverged');
    // Re-derive the step from the rule's definition: the first step whose loss is non-finite, or whose
    // moving average (weight 0.1: s = 0.9·s + 0.1·loss, from s = the first loss) is more than 1 above the first loss.
    const records = readMetrics(path.join(variantDir('lr-30'), 'metrics.jsonl')).filter((r) => r.trainLoss !== undefined); // not the step-0 evaluation
    const first = records[0]!.trainLoss!;
    let average = first;
    let expected = records.find((r) => (average = 0.9 * average + 0.1 * r.trainLoss!) > first + 1)?.step;
    if (expected === undefined) expected = records.length + 1; // the next step's loss was NaN (never logged)
    expect(status.divergedAt).toBe(expected);
    expect(status.step).toBeLessThan(24);
    for (const name of ['lr-3e-3', 'lr-3e-2']) expect(readMetrics(path.join(variantDir(name), 'metrics.jsonl')).map((r) => r.step)).toEqual(Array.from({ length: 25 }, (_, i) => i)); // step 0 (evaluation), then 24 steps
  });

  it('draws one series per variant in every plot, the diverged one dashed with an ✕', () => {
    const names = ['lr-3e-3', 'lr-3e-2', 'lr-30'];
    const validation = fs.readFileSync(reportFile('validation-loss.svg'), 'utf8');
    const polylines = seriesOf(validation);
    // Two panels (vs step, vs wall time), each one line per variant.
    expect(polylines.map((p) => p.series)).toEqual([...names, ...names]);
    for (const file of ['train-loss.svg']) expect(seriesOf(fs.readFileSync(reportFile(`${file}`), 'utf8')).map((p) => p.series)).toEqual(names);
    for (const file of ['validation-loss.svg', 'train-loss.svg', 'sweep.svg']) {
      const svg = fs.readFileSync(reportFile(`${file}`), 'utf8');
      for (const p of seriesOf(svg)) expect([p.diverged, p.dashed]).toEqual([p.series === 'lr-30', p.series === 'lr-30']);
      expect([...svg.matchAll(/class="diverged-marker" data-series="([^"]+)"/g)].every((m) => m[1] === 'lr-30')).toBe(true);
      expect(svg).toContain('class="diverged-marker" data-series="lr-30"');
      expect(svg).toContain('lr-30 ✕ diverged');
      expect(fs.existsSync(reportFile(`${file.replace('.svg', '.png')}`))).toBe(true);
    }
    // The sweep plot: one point per variant (a dot each), on a log axis of the learning rate.
    const sweep = fs.readFileSync(reportFile('sweep.svg'), 'utf8');
    expect(seriesOf(sweep).map((p) => p.series)).toEqual(names);
    expect(sweep).toContain('(log scale)');
  });

  it('report.md: every number equals the one in that variant\'s metrics.jsonl; the diverged row is marked', () => {
    const markdown = fs.readFileSync(reportFile('report.md'), 'utf8');
    const rows = tableRows(markdown);
    expect([...rows.keys()]).toEqual(['lr-3e-3', 'lr-3e-2', 'lr-30']);
    for (const [name, cells] of rows) {
      const records: MetricsRecord[] = fs.readFileSync(path.join(variantDir(name), 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const val = records.filter((r) => r.valLoss !== undefined && r.step > 0).map((r) => r.valLoss!); // step 0 is the untrained model, not a result
      const speeds = records.flatMap((r) => (r.tokensPerSecond !== undefined ? [r.tokensPerSecond] : [])).sort((a, b) => a - b);
      const [, differs, state, steps, finalVal, bestVal, speed, wall, divergedAt] = cells;
      const status = readStatus(variantDir(name))!;
      expect(differs).toBe(`maxLearningRate=${SWEEP.variants[name]!.maxLearningRate}`);
      expect(state).toBe(status.state);
      expect(Number(steps)).toBe(records.at(-1)!.step);
      expect(finalVal).toBe(val.length ? val.at(-1)!.toFixed(4) : '—');
      expect(bestVal).toBe(val.length ? Math.min(...val).toFixed(4) : '—');
      expect(speed).toBe(String(Math.round(speeds[Math.floor((speeds.length - 1) / 2)]!)));
      expect(wall).toBe(records.at(-1)!.wallTime.toFixed(1));
      expect(divergedAt).toBe(name === 'lr-30' ? String(status.divergedAt) : '—');
      expect(cells[0]).toBe(name === 'lr-30' ? 'lr-30 ✕' : name);
    }
    expect(markdown).toContain(`- \`lr-30\` at step ${readStatus(variantDir('lr-30'))!.divergedAt}:`);
  });

  it('samples 256 tokens from each final checkpoint with the spec\'s temperature and top-p', () => {
    const markdown = fs.readFileSync(reportFile('report.md'), 'utf8');
    for (const name of ['lr-3e-3', 'lr-3e-2']) {
      const sample = JSON.parse(fs.readFileSync(path.join(variantDir(name), 'sample.json'), 'utf8'));
      expect(sample).toMatchObject({ step: 24, tokens: 256, settings: { temperature: 0.8, topP: 0.95, prompt: 'the cat' } });
      expect(sample.text.startsWith('the cat')).toBe(true);
      expect(markdown).toContain(sample.text);
    }
    expect(markdown).toContain('temperature 0.8, top-p 0.95, 256 new tokens');
  });

  it('report.html is self-contained: inline SVG plots and no external resources', () => {
    const html = fs.readFileSync(reportFile('report.html'), 'utf8');
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(html).not.toMatch(/\b(src|href)=|@import|url\(/);
    expect(html).toContain('lr-30 ✕');
  });

  it('a re-run trains nothing: every variant is skipped and no file changes', async () => {
    const before = ['lr-3e-3', 'lr-3e-2', 'lr-30'].map((n) => fs.statSync(path.join(variantDir(n), 'metrics.jsonl')).mtimeMs);
    const again: RunnerEvent[] = [];
    // Another thread count is how it runs, not what it is: still finished.
    const result = await runExperiment({ spec: SWEEP, scale: 'tiny', dataDir: data, outDir: path.join(dir, 'runs'), threads: 2, worker: testWorker(), onEvent: (e) => again.push(e) });
    expect(result.variants.map((v) => v.skipped)).toEqual([true, true, true]);
    expect(again.filter((e) => e.type === 'variant-start')).toEqual([]);
    expect(['lr-3e-3', 'lr-3e-2', 'lr-30'].map((n) => fs.statSync(path.join(variantDir(n), 'metrics.jsonl')).mtimeMs)).toEqual(before);
  });

  it('copies a variant whose config equals a finished one elsewhere under the runs folder instead of training it', async () => {
    const other = tinySpec('other', { same: { maxLearningRate: 3e-3 }, different: { maxLearningRate: 3e-3, seed: 2 } }, { steps: 24, evalEvery: 4, checkpointEvery: 8 });
    const started: string[] = [];
    const result = await runExperiment({ spec: other, scale: 'tiny', dataDir: data, outDir: path.join(dir, 'runs'), threads: 1, worker: testWorker(), onEvent: (e) => { if (e.type === 'variant-start') started.push(e.name); } });
    expect(started).toEqual(['different']);
    expect(result.variants[0]!.status).toMatchObject({ state: 'done', reusedFrom: path.join('sweep', 'lr-3e-3') });
    const read = (root: string) => fs.readFileSync(path.join(root, 'metrics.jsonl'), 'utf8');
    expect(read(path.join(dir, 'runs', 'other', 'same'))).toBe(read(variantDir('lr-3e-3')));
    expect(read(path.join(dir, 'runs', 'other', 'different'))).not.toBe(read(variantDir('lr-3e-3')));
  });

  it('refuses a second runner on the same folder and a changed config, naming the field', async () => {
    const lock = path.join(dir, 'runs', 'sweep', 'runner.lock');
    fs.writeFileSync(lock, String(process.ppid)); // a live process that is not this one
    await expect(runExperiment({ spec: SWEEP, scale: 'tiny', dataDir: data, outDir: path.join(dir, 'runs'), threads: 1, worker: testWorker() })).rejects.toThrow(`experiment folder ${path.join(dir, 'runs', 'sweep')} is in use by another process (pid ${process.ppid})`);
    fs.rmSync(lock);
    const changed = tinySpec('sweep', { 'lr-3e-3': { maxLearningRate: 3e-3 } }, { steps: 30, evalEvery: 4, checkpointEvery: 8 });
    await expect(runExperiment({ spec: changed, scale: 'tiny', dataDir: data, outDir: path.join(dir, 'runs'), threads: 1, worker: testWorker() })).rejects.toThrow(/variant "lr-3e-3" .* \(steps, cosineCycleSteps changed\)/);
  });

  it('a variant killed with SIGKILL mid-run resumes on re-run and replays the uninterrupted losses bit for bit', async () => {
    const reference = path.join(dir, 'reference');
    const killed = path.join(dir, 'killed');
    await runExperiment({ spec: LONG, scale: 'tiny', dataDir: data, outDir: reference, threads: 1, worker: testWorker() });
    let killedAt = 0;
    const first = await runExperiment({
      spec: LONG, scale: 'tiny', dataDir: data, outDir: killed, threads: 1, worker: testWorker({ STEP_DELAY_MS: '40' }),
      onEvent: (e) => {
        if (e.type === 'checkpoint' && e.step === 16 && killedAt === 0) {
          killedAt = e.step;
          process.kill(e.pid, 'SIGKILL');
        }
      },
    });
    expect(killedAt).toBe(16);
    expect(first.variants[0]!.status.state).toBe('failed');
    expect(first.variants[0]!.status.error).toContain('SIGKILL');
    const partial = readMetrics(path.join(killed, 'long', 'only', 'metrics.jsonl'));
    expect(partial.at(-1)!.step).toBeLessThan(40);
    const events: RunnerEvent[] = [];
    const second = await runExperiment({ spec: LONG, scale: 'tiny', dataDir: data, outDir: killed, threads: 1, worker: testWorker(), onEvent: (e) => events.push(e) });
    expect(second.variants[0]!.status.state).toBe('done');
    // It resumed (its first progress is past the checkpoint), not restarted.
    const firstProgress = events.find((e) => e.type === 'progress');
    expect(firstProgress && firstProgress.type === 'progress' && firstProgress.step).toBeGreaterThan(16);
    const losses = (root: string) => readMetrics(path.join(root, 'long', 'only', 'metrics.jsonl')).map((r) => [r.step, r.trainLoss, r.valLoss ?? null]);
    expect(losses(killed)).toEqual(losses(reference));
    expect(losses(killed)).toHaveLength(41); // the step-0 evaluation once (not redone on resume), then 40 steps
  });

  it('SIGTERM (or Ctrl-C) stops a variant with a checkpoint and records it as interrupted, not done', async () => {
    const out = path.join(dir, 'terminated');
    let sent = false;
    const result = await runExperiment({
      spec: LONG, scale: 'tiny', dataDir: data, outDir: out, threads: 1, worker: testWorker({ STEP_DELAY_MS: '40' }),
      onEvent: (e) => {
        if (e.type === 'checkpoint' && !sent) {
          sent = true;
          process.kill(e.pid, 'SIGTERM');
        }
      },
    });
    const status = result.variants[0]!.status;
    expect(status.state).toBe('failed');
    expect(status.error).toMatch(/interrupted at step \d+ of 40 \(checkpoint saved\)/);
    const stopped = Number(/interrupted at step (\d+)/.exec(status.error!)![1]);
    expect(stopped).toBeLessThan(40);
    expect(readMetrics(path.join(out, 'long', 'only', 'metrics.jsonl')).at(-1)!.step).toBe(stopped);
  });
});

