/**
 * The experiment report: overlaid curves with one line per variant (validation loss against steps
 * and against wall time, smoothed train loss, and for sweeps the final validation loss against the
 * swept value), `report.md` (a table and a sample per variant) and a self-contained `report.html`.
 * Everything is read back from the variant folders, so the report can be redrawn at any time, also
 * while a sweep runs. Diverged variants are dashed and end in an ✕, in every plot and in the table.
 *
 * Numbers in the table come straight from metrics.jsonl: the last and the lowest validation loss, the
 * median of the per-step tokens/s (an actual logged value), the last record's wall time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@cs336/tokenizer';
import {
  CHECKPOINT_FILE, InferenceModel, METRICS_FILE, escapeXml, generate, readMetrics, renderPanelsSvg, renderPng,
  type MetricsRecord, type PlotPanel, type PlotSeries,
} from '@cs336/train';
import { EXPERIMENT_FILE, type ExperimentRecord } from './experiment-runner.js';
import type { OverrideValue, SampleSettings } from './experiment-spec.js';
import { writeFileAtomic, writeJsonAtomic } from './json-file.js';
import { VARIANT_CONFIG_FILE, readStatus, type VariantConfig, type VariantStatus } from './variant-worker.js';

export const SAMPLE_FILE = 'sample.json';
/** Ten distinguishable colours (matplotlib's tab10), cycled. */
export const VARIANT_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
/** Weight of the newest step in the smoothed train loss (debiased exponential moving average). */
export const TRAIN_SMOOTHING = 0.1;

export interface VariantSummary {
  name: string;
  differs: Record<string, OverrideValue>;
  status: VariantStatus | undefined;
  records: MetricsRecord[];
  steps: number;
  finalValLoss?: number;
  bestValLoss?: number;
  tokensPerSecond?: number;
  wallTime?: number;
  sample?: VariantSample;
}

export interface VariantSample {
  step: number;
  settings: SampleSettings;
  text?: string;
  tokens?: number;
  /** Why there is no text. */
  skipped?: string;
}

export interface ReportFiles {
  markdown: string;
  html: string;
  plots: Array<{ svg: string; png: string }>;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Debiased EMA: s_t = β s_{t−1} + (1−β) x_t, divided by 1 − β^t so the start is not pulled to 0. */
export function smoothLosses(values: readonly number[], weight = TRAIN_SMOOTHING): number[] {
  let average = 0;
  return values.map((x, i) => {
    average = (1 - weight) * average + weight * x;
    return average / (1 - (1 - weight) ** (i + 1));
  });
}

/** The lower median: a value that is in the data. */
function lowerMedian(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

export function summarizeVariant(variantDir: string, name: string): VariantSummary {
  const config = readJson<VariantConfig>(path.join(variantDir, VARIANT_CONFIG_FILE));
  const records = readMetrics(path.join(variantDir, METRICS_FILE));
  // Step 0 is the untrained model: a variant that diverged before its first evaluation has no final loss, not that one.
  const validation = records.flatMap((r) => (r.valLoss !== undefined && r.step > 0 ? [r.valLoss] : []));
  const speeds = records.flatMap((r) => (r.tokensPerSecond !== undefined && r.tokensPerSecond > 0 ? [r.tokensPerSecond] : []));
  return {
    name,
    differs: config?.differs ?? {},
    status: readStatus(variantDir),
    records,
    steps: records.at(-1)?.step ?? 0,
    ...(validation.length ? { finalValLoss: validation.at(-1)!, bestValLoss: Math.min(...validation) } : {}),
    ...(speeds.length ? { tokensPerSecond: lowerMedian(speeds)! } : {}),
    ...(records.length ? { wallTime: records.at(-1)!.wallTime } : {}),
  };
}

async function loadTokenizer(dir: string): Promise<Tokenizer> {
  const json = path.join(dir, 'tokenizer.json');
  if (fs.existsSync(json)) return Tokenizer.fromTokenizerJson(json);
  return Tokenizer.fromFiles(path.join(dir, 'vocab.json'), path.join(dir, 'merges.txt'), ['<|endoftext|>']);
}

/**
 * A sample from the variant's final checkpoint, cached in sample.json for that checkpoint step and
 * those settings (a redraw of the report does not regenerate it). The full maxNewTokens are drawn,
 * through any end-of-text, so the sample has the length asked for.
 */
export async function sampleVariant(variantDir: string, settings: SampleSettings): Promise<VariantSample | undefined> {
  const config = readJson<VariantConfig>(path.join(variantDir, VARIANT_CONFIG_FILE));
  if (!config || config.kind !== 'lm' || !fs.existsSync(path.join(variantDir, CHECKPOINT_FILE))) return undefined;
  const cacheFile = path.join(variantDir, SAMPLE_FILE);
  const model = await InferenceModel.fromCheckpoint(variantDir, { device: config.train.device, ...(config.train.threads > 0 ? { threads: config.train.threads } : {}) });
  try {
    const step = model.metadata?.step ?? 0;
    const cached = readJson<VariantSample>(cacheFile);
    if (cached && cached.step === step && JSON.stringify(cached.settings) === JSON.stringify(settings)) return cached;
    let sample: VariantSample;
    if (!config.train.tokenizer) {
      sample = { step, settings, skipped: 'the data folder has no tokenizer/ to decode with' };
    } else {
      const tokenizer = await loadTokenizer(config.train.tokenizer);
      const ids = settings.prompt ? tokenizer.encode(settings.prompt) : [];
      if (ids.length === 0) ids.push(tokenizer.specialTokenId('<|endoftext|>') ?? 0);
      try {
        const generated = await generate(model, ids.slice(-model.contextLength), { maxNewTokens: settings.maxNewTokens, temperature: settings.temperature, topP: settings.topP, seed: settings.seed });
        sample = { step, settings, text: settings.prompt + tokenizer.decode(generated), tokens: generated.length };
      } catch (error) {
        sample = { step, settings, skipped: (error as Error).message };
      }
    }
    writeJsonAtomic(cacheFile, sample);
    return sample;
  } finally {
    await model.release();
  }
}

function diverged(v: VariantSummary): boolean {
  return v.status?.state === 'diverged';
}

const DIVERGED_NOTE = 'dashed + ✕: diverged';

function seriesFor(variants: readonly VariantSummary[], points: (v: VariantSummary) => Array<[number, number]>, markers: boolean): PlotSeries[] {
  return variants.map((v, i) => ({ label: v.name, color: VARIANT_COLORS[i % VARIANT_COLORS.length]!, points: points(v), markers, diverged: diverged(v) }));
}

/** The report's plots: each an SVG of one or two panels, file name without extension. */
export function reportPlots(record: Pick<ExperimentRecord, 'kind' | 'sweep'>, variants: readonly VariantSummary[]): Array<{ name: string; svg: string }> {
  const note = variants.some(diverged) ? DIVERGED_NOTE : undefined;
  // The toy's losses span many decades (1e3 explodes, 1e2 reaches ~0): a log y axis shows all three.
  const logY = record.kind === 'sgd-toy';
  const withNote = (panel: PlotPanel): PlotPanel => ({ ...panel, ...(note ? { note } : {}), ...(logY ? { logY, yLabel: 'loss (log scale)' } : {}) });
  const validation = (v: VariantSummary) => v.records.filter((r) => r.valLoss !== undefined);
  const lossName = record.kind === 'sgd-toy' ? 'loss after the step' : 'validation loss';
  // When variants see different tokens per step (the batch-size sweep), steps do not compare: add loss vs tokens.
  const tokensPerStep = new Set(variants.flatMap((v) => (v.records[0] ? [v.records[0].tokensSeen / v.records[0].step] : [])));
  const byTokens = tokensPerStep.size > 1
    ? [withNote({ title: `${lossName} vs tokens seen`, xLabel: 'tokens (millions)', series: seriesFor(variants, (v) => validation(v).map((r) => [r.tokensSeen / 1e6, r.valLoss!]), true) })]
    : [];
  const plots = [
    {
      name: 'validation-loss',
      svg: renderPanelsSvg([
        withNote({ title: `${lossName} vs step`, xLabel: 'step', series: seriesFor(variants, (v) => validation(v).map((r) => [r.step, r.valLoss!]), true) }),
        ...byTokens,
        withNote({ title: `${lossName} vs wall time`, xLabel: 'wall time (s)', series: seriesFor(variants, (v) => validation(v).map((r) => [r.wallTime, r.valLoss!]), true) }),
      ]),
    },
    {
      name: 'train-loss',
      svg: renderPanelsSvg([withNote({
        title: `train loss (smoothed, EMA ${TRAIN_SMOOTHING}) vs step`, xLabel: 'step',
        series: seriesFor(variants, (v) => {
          const trained = v.records.filter((r) => r.trainLoss !== undefined); // not the step-0 evaluation
          const smooth = smoothLosses(trained.map((r) => r.trainLoss!));
          return trained.map((r, i) => [r.step, smooth[i]!]);
        }, false),
      })]),
    },
  ];
  if (record.sweep !== undefined) {
    const key = record.sweep;
    const logX = /learningrate|lr$/i.test(key);
    plots.push({
      name: 'sweep',
      svg: renderPanelsSvg([withNote({
        title: `final ${lossName} vs ${key}`, xLabel: `${key}${logX ? ' (log scale)' : ''}`, logX,
        series: seriesFor(variants, (v) => {
          const x = Number(v.differs[key]);
          // A run stopped before its first evaluation still gets a point: its last train loss.
          const y = v.finalValLoss ?? v.records.at(-1)?.trainLoss;
          return Number.isFinite(x) && y !== undefined ? [[x, y]] : [];
        }, true),
      })]),
    });
  }
  return plots;
}

export function formatDiffers(differs: Record<string, OverrideValue>): string {
  const entries = Object.entries(differs);
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(', ') : '(base)';
}

/** The table's cells for one variant, as they appear in report.md and report.html. */
export function tableRow(v: VariantSummary): string[] {
  const state = v.status?.state ?? (v.records.length ? 'running' : 'not started');
  return [
    diverged(v) ? `${v.name} ✕` : v.name,
    formatDiffers(v.differs),
    state,
    String(v.steps),
    v.finalValLoss !== undefined ? v.finalValLoss.toFixed(4) : '—',
    v.bestValLoss !== undefined ? v.bestValLoss.toFixed(4) : '—',
    v.tokensPerSecond !== undefined ? String(Math.round(v.tokensPerSecond)) : '—',
    v.wallTime !== undefined ? v.wallTime.toFixed(1) : '—',
    v.status?.divergedAt !== undefined ? String(v.status.divergedAt) : '—',
  ];
}

export const TABLE_HEADER = ['variant', 'differs from base', 'state', 'steps', 'final val loss', 'best val loss', 'tokens/s (median)', 'wall time (s)', 'diverged at step'];

function markdownCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function renderMarkdown(record: ExperimentRecord, variants: readonly VariantSummary[], plots: ReadonlyArray<{ name: string }>): string {
  const lines = [`# Experiment \`${record.name}\` (scale \`${record.scale}\`)`, ''];
  if (record.description) lines.push(record.description, '');
  lines.push(...plots.map((p) => `![${p.name}](${p.name}.png)`), '');
  lines.push('## Variants', '', `| ${TABLE_HEADER.join(' | ')} |`, `| ${TABLE_HEADER.map(() => '---').join(' | ')} |`);
  for (const v of variants) lines.push(`| ${tableRow(v).map(markdownCell).join(' | ')} |`);
  lines.push('');
  if (variants.some(diverged)) {
    lines.push(`✕ diverged: ${divergenceRuleText(record)}`, '');
    for (const v of variants.filter(diverged)) lines.push(`- \`${v.name}\` at step ${v.status!.divergedAt}: ${v.status!.reason}`);
    lines.push('');
  }
  const reused = variants.filter((v) => v.status?.reusedFrom);
  if (reused.length) {
    for (const v of reused) lines.push(`- \`${v.name}\` is the run \`${v.status!.reusedFrom}\`, copied: it has the same config (only the folder differs).`);
    lines.push('');
  }
  const failed = variants.filter((v) => v.status?.state === 'failed');
  if (failed.length) {
    lines.push('## Failed variants', '');
    for (const v of failed) lines.push(`- \`${v.name}\`:`, '', '```text', v.status!.error ?? '', '```', '');
  }
  const samples = variants.filter((v) => v.sample);
  if (samples.length) {
    lines.push('## Samples', '');
    for (const v of samples) {
      const s = v.sample!;
      lines.push(`### ${v.name}`, '', `From the checkpoint at step ${s.step}; temperature ${s.settings.temperature}, top-p ${s.settings.topP}, ${s.tokens ?? 0} new tokens, seed ${s.settings.seed}, prompt ${JSON.stringify(s.settings.prompt)}.`, '');
      if (s.text !== undefined) lines.push('```text', s.text.replace(/```/g, "'''"), '```', '');
      else lines.push(`No sample: ${s.skipped}`, '');
    }
  }
  return lines.join('\n');
}

export function divergenceRuleText(record: ExperimentRecord): string {
  const r = record.divergence;
  return `a non-finite loss, or the smoothed train loss (EMA ${r.smoothing}) more than ${r.aboveStart} above the first step's loss, or after step ${r.afterStep} above ${r.aboveMinRatio}× its running minimum`;
}

function renderHtml(record: ExperimentRecord, variants: readonly VariantSummary[], plots: ReadonlyArray<{ name: string; svg: string }>): string {
  const cells = (row: string[], tag: string) => `<tr>${row.map((c) => `<${tag}>${escapeXml(c)}</${tag}>`).join('')}</tr>`;
  const parts = [
    '<!doctype html>', '<html lang="en"><head><meta charset="utf-8">', `<title>${escapeXml(`${record.name} (${record.scale})`)}</title>`,
    '<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px}pre{white-space:pre-wrap;background:#f6f6f6;padding:8px}svg{max-width:100%;height:auto}</style>',
    '</head><body>', `<h1>Experiment <code>${escapeXml(record.name)}</code> (scale <code>${escapeXml(record.scale)}</code>)</h1>`,
  ];
  if (record.description) parts.push(`<p>${escapeXml(record.description)}</p>`);
  for (const p of plots) parts.push(`<figure>${p.svg}</figure>`);
  parts.push('<h2>Variants</h2>', '<table>', cells(TABLE_HEADER, 'th'), ...variants.map((v) => cells(tableRow(v), 'td')), '</table>');
  if (variants.some(diverged)) parts.push(`<p>✕ diverged: ${escapeXml(divergenceRuleText(record))}</p><ul>${variants.filter(diverged).map((v) => `<li><code>${escapeXml(v.name)}</code> at step ${v.status!.divergedAt}: ${escapeXml(v.status!.reason ?? '')}</li>`).join('')}</ul>`);
  for (const v of variants.filter((x) => x.status?.state === 'failed')) parts.push(`<h3>${escapeXml(v.name)} failed</h3><pre>${escapeXml(v.status!.error ?? '')}</pre>`);
  const samples = variants.filter((v) => v.sample);
  if (samples.length) parts.push('<h2>Samples</h2>');
  for (const v of samples) {
    const s = v.sample!;
    parts.push(`<h3>${escapeXml(v.name)}</h3><p>step ${s.step}, temperature ${s.settings.temperature}, top-p ${s.settings.topP}, ${s.tokens ?? 0} new tokens</p>`);
    parts.push(s.text !== undefined ? `<pre>${escapeXml(s.text)}</pre>` : `<p>No sample: ${escapeXml(s.skipped ?? '')}</p>`);
  }
  parts.push('</body></html>', '');
  return parts.join('\n');
}

/** Writes each plot as `<name>.svg` and `<name>.png` into `outDir` (each file atomically). */
export function writePlots(outDir: string, plots: ReadonlyArray<{ name: string; svg: string }>): Array<{ svg: string; png: string }> {
  return plots.map((plot) => {
    const svg = path.join(outDir, `${plot.name}.svg`);
    const png = path.join(outDir, `${plot.name}.png`);
    writeFileAtomic(svg, plot.svg);
    writeFileAtomic(png, renderPng(plot.svg));
    return { svg, png };
  });
}

export interface WriteReportOptions {
  /** Draw samples from each final checkpoint (default true). */
  samples?: boolean;
  /** Where the report goes (default: the experiment folder). */
  outDir?: string;
}

/** Reads `experimentDir` and writes the plots (SVG + PNG), report.md and report.html. */
export async function writeExperimentReport(experimentDir: string, options: WriteReportOptions = {}): Promise<ReportFiles> {
  const record = readJson<ExperimentRecord>(path.join(experimentDir, EXPERIMENT_FILE));
  if (!record) throw new Error(`${experimentDir} is not an experiment folder: it has no readable ${EXPERIMENT_FILE} (cs336 experiment run writes it)`);
  const outDir = options.outDir ?? experimentDir;
  const variants = record.variants.map((name) => summarizeVariant(path.join(experimentDir, name), name));
  if (options.samples !== false) {
    for (const v of variants) {
      const sample = await sampleVariant(path.join(experimentDir, v.name), record.sample);
      if (sample) v.sample = sample;
    }
  }
  const plots = reportPlots(record, variants);
  const files: ReportFiles = { markdown: path.join(outDir, 'report.md'), html: path.join(outDir, 'report.html'), plots: writePlots(outDir, plots) };
  writeFileAtomic(files.markdown, renderMarkdown(record, variants, plots));
  writeFileAtomic(files.html, renderHtml(record, variants, plots));
  return files;
}
