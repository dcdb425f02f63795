/**
 * Comparing training runs that were not started as one experiment: any run folders `cs336 train`
 * wrote (a metrics.jsonl, and a checkpoint whose metadata holds the model and train configs). The
 * report is the experiment report's plots and table for those runs, with the config fields on which
 * they differ found by reading the configs rather than declared in a spec, so "what changed between
 * these two runs" is answered from the runs themselves.
 */
import fs from 'node:fs';
import path from 'node:path';
import { METRICS_FILE, escapeXml, readCheckpointMetadata } from '@cs336/train';
import type { OverrideValue } from './experiment-spec.js';
import { formatDiffers, reportPlots, summarizeVariant, writePlots, type VariantSummary } from './experiment-report.js';
import { writeFileAtomic } from './json-file.js';

/** Train-config fields that say where a run lives, not what it trained: never a difference. */
const IGNORED_FIELDS = new Set(['train.runDir']);

export interface ComparedRun extends VariantSummary {
  dir: string;
  /** The step count the run was configured for, when its checkpoint says. */
  plannedSteps?: number;
}

export interface RunComparison {
  runs: ComparedRun[];
  /** Every config field (model.x, train.y) whose value is not the same in all runs. */
  differingFields: string[];
  markdown: string;
  html: string;
  plots: Array<{ svg: string; png: string }>;
}

/** `model.dModel`, `train.maxLearningRate`, ...: one flat map per run, values as they are configured. */
function flatConfig(dir: string): Map<string, unknown> {
  const meta = readCheckpointMetadata(dir);
  const fields = new Map<string, unknown>();
  if (!meta) return fields;
  for (const [section, config] of [['model', meta.modelConfig], ['train', meta.trainConfig]] as const) {
    for (const [key, value] of Object.entries(config ?? {})) fields.set(`${section}.${key}`, value);
  }
  return fields;
}

function asOverride(value: unknown): OverrideValue {
  return typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' ? value : value === undefined ? '(unset)' : JSON.stringify(value);
}

/** Short unique labels: the folder names, with parents added while two are equal. */
export function runLabels(dirs: readonly string[]): string[] {
  const parts = dirs.map((dir) => path.resolve(dir).split(path.sep).filter(Boolean));
  const depth = dirs.map(() => 1);
  const label = (i: number) => parts[i]!.slice(-depth[i]!).join('/');
  for (;;) {
    const labels = dirs.map((_, i) => label(i));
    const repeated = labels.map((l, i) => labels.indexOf(l) !== i || labels.lastIndexOf(l) !== i);
    const growable = repeated.map((r, i) => r && depth[i]! < parts[i]!.length);
    if (!growable.some(Boolean)) return labels;
    growable.forEach((grow, i) => { if (grow) depth[i]!++; });
  }
}

/**
 * Reads each run folder and writes `compare.md`, `compare.html` and the plots (SVG + PNG) into
 * `outDir`. Throws before writing anything when a folder is not a run (no metrics.jsonl) or a
 * label repeats.
 */
export function compareRuns(runDirs: readonly string[], outDir: string, options: { names?: readonly string[] } = {}): RunComparison {
  if (runDirs.length < 1) throw new Error('compare needs at least one run folder');
  for (const dir of runDirs) {
    if (!fs.existsSync(path.join(dir, METRICS_FILE))) throw new Error(`${dir} is not a training run: it has no ${METRICS_FILE} (cs336 train --run-dir writes it)`);
  }
  const names = options.names ?? runLabels(runDirs);
  if (names.length !== runDirs.length) throw new Error(`${names.length} names for ${runDirs.length} runs; give one name per run`);
  if (new Set(names).size !== names.length) throw new Error(`run names repeat: ${names.join(', ')}; give distinct names`);

  const configs = runDirs.map(flatConfig);
  const keys = [...new Set(configs.flatMap((c) => [...c.keys()]))].filter((k) => !IGNORED_FIELDS.has(k)).sort();
  const differingFields = runDirs.length < 2 ? [] : keys.filter((key) => new Set(configs.map((c) => JSON.stringify(c.get(key)))).size > 1);
  const runs: ComparedRun[] = runDirs.map((dir, i) => {
    const summary = summarizeVariant(dir, names[i]!);
    const differs = Object.fromEntries(differingFields.map((key) => [key.replace(/^train\./, ''), asOverride(configs[i]!.get(key))]));
    const planned = configs[i]!.get('train.steps');
    return { ...summary, differs, dir, ...(typeof planned === 'number' ? { plannedSteps: planned } : {}) };
  });
  // No records that an experiment runner would have written: these runs never diverge by its rule.
  const plots = reportPlots({ kind: 'lm' }, runs);
  fs.mkdirSync(outDir, { recursive: true });
  const files: RunComparison = { runs, differingFields, markdown: path.join(outDir, 'compare.md'), html: path.join(outDir, 'compare.html'), plots: writePlots(outDir, plots) };
  const header = ['run', 'differs', 'steps', 'final val loss', 'best val loss', 'tokens/s (median)', 'wall time (s)'];
  const rows = runs.map(comparisonRow);
  const md = [
    `# ${runs.length} training runs compared`, '',
    differingFields.length ? `They differ in: ${differingFields.map((f) => `\`${f}\``).join(', ')}.` : runs.length > 1 ? 'Their configs are identical.' : '', '',
    ...plots.map((p) => `![${p.name}](${p.name}.png)`), '',
    `| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`), '',
    ...runs.map((r) => `- \`${r.name}\`: ${path.resolve(r.dir)}`), '',
  ].join('\n');
  const cells = (row: string[], tag: string) => `<tr>${row.map((c) => `<${tag}>${escapeXml(c)}</${tag}>`).join('')}</tr>`;
  const html = [
    '<!doctype html>', '<html lang="en"><head><meta charset="utf-8"><title>runs compared</title>',
    '<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px}svg{max-width:100%;height:auto}</style>',
    '</head><body>', `<h1>${runs.length} training runs compared</h1>`,
    differingFields.length ? `<p>They differ in: ${differingFields.map((f) => `<code>${escapeXml(f)}</code>`).join(', ')}.</p>` : '',
    ...plots.map((p) => `<figure>${p.svg}</figure>`),
    '<table>', cells(header, 'th'), ...rows.map((r) => cells(r, 'td')), '</table>', '</body></html>', '',
  ].join('\n');
  writeFileAtomic(files.markdown, md);
  writeFileAtomic(files.html, html);
  return files;
}

function comparisonRow(run: ComparedRun): string[] {
  return [
    run.name,
    Object.keys(run.differs).length ? formatDiffers(run.differs) : '—',
    run.plannedSteps !== undefined ? `${run.steps} / ${run.plannedSteps}` : String(run.steps),
    run.finalValLoss !== undefined ? run.finalValLoss.toFixed(4) : '—',
    run.bestValLoss !== undefined ? run.bestValLoss.toFixed(4) : '—',
    run.tokensPerSecond !== undefined ? String(Math.round(run.tokensPerSecond)) : '—',
    run.wallTime !== undefined ? run.wallTime.toFixed(1) : '—',
  ];
}
