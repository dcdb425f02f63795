/**
 * cs336 experiment run | report | list: the assignment's sweeps and ablations from the specs that ship
 * with @cs336/experiments (three entries in the command table). The library plans, runs and reports; this file parses flags and draws the
 * one progress view of the whole sweep (variant i of n, its step, loss and ETA; the overall ETA).
 */
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  SCALES, listExperimentSpecs, loadExperimentSpec, planExperiment, runExperiment, writeExperimentReport,
  type RunExperimentOptions, type RunnerEvent, type ScaleName,
} from '@cs336/experiments';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { integerFlag } from '../flags.js';
import { createProgressBar, formatDuration, type ProgressBar } from '../progress.js';

const RUN_USAGE = `cs336 experiment run SPEC|NAME [--scale tiny|cpu|handout] [--data DIR] [--device cpu|cuda] [--jobs N] [--threads N] [--out DIR] [--dry-run] [--no-reuse]

  SPEC|NAME      a spec file, or a shipped spec: ${listExperimentSpecs().join(', ')}
  --scale S      tiny (seconds, for CI), cpu (minutes on 2 cores; the default) or handout (the handout's model and tokens, for a GPU)
  --data DIR     train.bin and valid.bin from \`cs336 tokenize\` (with their .json sidecars), and tokenizer/ for the samples
  --device D     cpu (default) or cuda, for every variant
  --jobs N       variants at once, each in its own process (default 1)
  --threads N    ONNX Runtime threads per process (default: the cores divided by --jobs); fixed, resumes are bit-exact
  --out DIR      variants go to DIR/<experiment>/<variant>/ (default runs)
  --dry-run      check the spec and every variant, print the plan, train nothing
  --no-reuse     train every variant, even one whose config equals a finished run's under --out (copied by default)
  Finished variants are skipped; interrupted ones resume from their checkpoint. The report is written at the end.`;

const REPORT_USAGE = `cs336 experiment report DIR [--no-samples]

  DIR            an experiment folder (runs/<experiment>); writes its plots (SVG + PNG), report.md and report.html
  --no-samples   skip drawing a sample from each final checkpoint`;

function parse(argv: string[], options: NonNullable<ParseArgsConfig['options']>, usage: string): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nusage: ${usage}`);
  }
}

/** The sweep's progress: one bar over all steps still to run, fields for each running variant. */
function sweepProgress(): (event: RunnerEvent) => void {
  let bar: ProgressBar | undefined;
  const started = new Map<string, { at: number; from: number; step: number; steps: number; loss?: number; index: number; count: number }>();
  const done = new Map<string, number>();
  const total = { steps: 0 };
  return (event) => {
    switch (event.type) {
      case 'plan': {
        for (const v of event.variants) {
          if (v.skip) console.error(`  ${v.name}: finished earlier (skipped)`);
          else if (v.reuseFrom) console.error(`  ${v.name}: same config as the finished ${v.reuseFrom}: copied, not trained`);
          else total.steps += v.steps - v.startStep;
        }
        if (total.steps > 0) bar = createProgressBar({ label: 'experiment', total: total.steps, unit: 'steps' });
        break;
      }
      case 'variant-start':
        started.set(event.name, { at: performance.now(), from: -1, step: 0, steps: 0, index: event.index, count: event.count });
        break;
      case 'progress': {
        const v = started.get(event.name);
        if (!v) break;
        if (v.from < 0) { v.from = event.step; v.at = performance.now(); }
        Object.assign(v, { step: event.step, steps: event.steps, loss: event.loss });
        done.set(event.name, event.step - v.from);
        const fields: Record<string, string> = {};
        for (const [name, s] of started) {
          const elapsed = (performance.now() - s.at) / 1000;
          const eta = s.step > s.from ? (elapsed * (s.steps - s.step)) / (s.step - s.from) : Number.NaN;
          fields[`[${s.index + 1}/${s.count}] ${name}`] = `step ${s.step}/${s.steps} loss ${s.loss?.toFixed(3) ?? '-'} ETA ${formatDuration(eta)}`;
        }
        bar?.update([...done.values()].reduce((a, b) => a + b, 0), fields);
        break;
      }
      case 'variant-end': {
        started.delete(event.name);
        const s = event.status;
        const detail = (s.state === 'diverged' ? ` at step ${s.divergedAt}: ${s.reason}` : s.state === 'failed' ? `: ${s.error}` : ` (${s.step} steps)`) + (s.reusedFrom ? ` (copied from ${s.reusedFrom})` : '');
        process.stderr.write(`\n[${event.index + 1}/${event.count}] ${event.name}: ${s.state}${detail}\n`);
        break;
      }
      default:
        break;
    }
  };
}

async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    scale: { type: 'string' }, data: { type: 'string' }, device: { type: 'string' }, jobs: { type: 'string' },
    threads: { type: 'string' }, out: { type: 'string' }, 'dry-run': { type: 'boolean' }, 'no-reuse': { type: 'boolean' },
  }, RUN_USAGE);
  if (positionals.length !== 1) throw new UsageError(`give one experiment spec (a file or a name)\nusage: ${RUN_USAGE}`);
  const scale = String(values.scale ?? 'cpu') as ScaleName;
  if (!SCALES.includes(scale)) throw new UsageError(`--scale must be one of ${SCALES.join(', ')}; got "${scale}"`);
  const device = String(values.device ?? 'cpu');
  if (device !== 'cpu' && device !== 'cuda') throw new UsageError(`--device must be cpu or cuda; got "${device}"`);
  const jobs = integerFlag('jobs', values.jobs as string | undefined, 1) ?? 1;
  const threads = integerFlag('threads', values.threads as string | undefined, 1);
  let options: RunExperimentOptions;
  try {
    const { spec } = loadExperimentSpec(positionals[0]!);
    options = {
      spec, scale, outDir: path.resolve(String(values.out ?? 'runs')), device, jobs, reuse: values['no-reuse'] !== true,
      ...(values.data !== undefined ? { dataDir: path.resolve(String(values.data)) } : {}),
      ...(threads !== undefined ? { threads } : {}),
    };
    // Every variant is checked (and the plan made) before anything trains; a bad spec is a usage error.
    const { experimentDir, plan, variants } = planExperiment(options);
    console.error(`experiment ${spec.name} at scale ${scale}: ${plan.length} variants → ${experimentDir}`);
    for (const [i, v] of variants.entries()) {
      const p = plan[i]!;
      const T = v.train.contextLength || v.model.contextLength;
      const note = p.skip ? ' — finished, skipped' : p.reuseFrom ? ` — copies ${p.reuseFrom}` : p.startStep > 0 ? ` — resumes at step ${p.startStep}` : '';
      console.error(`  [${i + 1}/${plan.length}] ${v.name}: ${Object.entries(v.differs).map(([k, x]) => `${k}=${x}`).join(', ') || '(base)'}; ${v.train.steps} steps × B ${v.train.batchSize} × T ${T}${note}`);
    }
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values['dry-run']) return 0;
  const result = await runExperiment({ ...options, onEvent: sweepProgress() });
  console.error('report: drawing plots and samples');
  const report = await writeExperimentReport(result.experimentDir);
  const counts = { done: 0, diverged: 0, failed: 0 };
  for (const v of result.variants) counts[v.status.state]++;
  console.log(`experiment ${options.spec.name}: ${counts.done} done, ${counts.diverged} diverged, ${counts.failed} failed; report ${report.markdown} (and ${path.basename(report.html)}, ${report.plots.length} plots)`);
  return counts.failed > 0 ? 1 : 0;
}

async function reportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { 'no-samples': { type: 'boolean' } }, REPORT_USAGE);
  if (positionals.length !== 1) throw new UsageError(`give one experiment folder\nusage: ${REPORT_USAGE}`);
  const report = await writeExperimentReport(path.resolve(positionals[0]!), { samples: values['no-samples'] !== true });
  console.log(`wrote ${report.markdown}, ${report.html} and ${report.plots.map((p) => path.basename(p.svg, '.svg')).join(', ')} (.svg, .png)`);
  return 0;
}

export const experimentRunCommand: Command = {
  name: 'experiment run',
  summary: 'run every variant of an experiment spec (skip finished, resume interrupted, stop diverged), then report',
  usage: RUN_USAGE,
  flags: ['scale', 'data', 'device', 'jobs', 'threads', 'out', 'dry-run', 'no-reuse'],
  run: runCommand,
};

export const experimentReportCommand: Command = {
  name: 'experiment report',
  summary: "redraw an experiment's plots, report.md and report.html",
  usage: REPORT_USAGE,
  flags: ['no-samples'],
  run: reportCommand,
};

export const experimentListCommand: Command = {
  name: 'experiment list',
  summary: 'the experiment specs that ship with @cs336/experiments',
  usage: 'cs336 experiment list',
  flags: [],
  async run(argv) {
    if (argv.length > 0) throw new UsageError(`cs336 experiment list takes no arguments, got ${JSON.stringify(argv.join(' '))}`);
    for (const name of listExperimentSpecs()) {
      const { spec } = loadExperimentSpec(name);
      console.log(`${name.padEnd(16)} ${spec.description}`);
    }
    return 0;
  },
};
