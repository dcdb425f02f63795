/**
 * cs336 compare RUN_DIR...: the experiment report's plots and table for any training runs, with the
 * config fields on which they differ read from their checkpoints (@cs336/experiments compareRuns).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { compareRuns } from '@cs336/experiments';
import { METRICS_FILE } from '@cs336/train';
import { UsageError, type Command } from '../command.js';
import { checkOutputDirectory } from '../preflight.js';

const USAGE = `cs336 compare RUN_DIR RUN_DIR... [--out DIR] [--names A,B,...]

  RUN_DIR        folders that cs336 train wrote (metrics.jsonl, checkpoint); one or more
  --out DIR      where compare.md, compare.html and the plots (SVG + PNG) go (default compare)
  --names A,B    labels for the runs, in order (default: the folder names, made unique)`;

async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { out: { type: 'string' }, names: { type: 'string' } }, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length === 0) throw new UsageError('give at least one run folder');
  for (const dir of positionals) {
    if (!fs.existsSync(path.join(dir, METRICS_FILE))) throw new UsageError(`${dir}: not a training run (no ${METRICS_FILE}; cs336 train --run-dir writes one)`);
  }
  const names = values.names?.split(',').map((name) => name.trim());
  if (names && (names.length !== positionals.length || names.some((name) => name === ''))) {
    throw new UsageError(`--names: ${names.length} names for ${positionals.length} runs; give one non-empty name per run, comma-separated`);
  }
  if (names && new Set(names).size !== names.length) throw new UsageError(`--names: names repeat (${names.join(', ')})`);
  const out = path.resolve(values.out ?? 'compare');
  checkOutputDirectory('--out', out);
  const result = compareRuns(positionals, out, names ? { names } : {});
  for (const r of result.runs) {
    console.log(`${r.name}: ${r.steps} steps, final val loss ${r.finalValLoss?.toFixed(4) ?? '—'}, best ${r.bestValLoss?.toFixed(4) ?? '—'}`);
  }
  console.log(result.differingFields.length ? `differ in: ${result.differingFields.join(', ')}` : 'configs identical');
  console.log(`wrote ${result.markdown}, ${path.basename(result.html)} and ${result.plots.map((p) => path.basename(p.svg, '.svg')).join(', ')} (.svg, .png)`);
  return 0;
}

export const compareCommand: Command = {
  name: 'compare',
  summary: "overlay training runs' loss curves and tabulate them, with the config fields they differ in",
  usage: USAGE,
  flags: ['out', 'names'],
  run,
};
