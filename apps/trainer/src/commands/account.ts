/**
 * cs336 account: the handout's resource-accounting questions (parameters, matmul FLOPs by component,
 * AdamW memory, step FLOPs, training time) for a GPT-2 preset or a run config, and with --run the MFU
 * a finished run achieved. The numbers come from @cs336/nn's accounting; this file only prints them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { measureMatMulFlops } from '@cs336/graph';
import { FLOP_COMPONENTS, GPT2_PRESETS, modelFlopsUtilization, resolveTransformerConfig, resourceReport, type FlopComponent, type ResourceReport, type TransformerConfig } from '@cs336/nn';
import { METRICS_FILE, checkpointPath, loadCheckpoint, readMetrics, readRunConfigFile } from '@cs336/train';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { integerFlag, numberFlag } from '../flags.js';

const PRESETS = ['gpt2-small', 'gpt2-medium', 'gpt2-large', 'gpt2-xl'] as const;

const USAGE = `cs336 account [--preset ${PRESETS.join('|')} | --config FILE] [--context N] [--batch N] [--run DIR [--peak-tflops X]] [--json]

  --preset P        a GPT-2 shape from the handout (default gpt2-xl)
  --config FILE     a train config JSON (its "model" section), as for cs336 train
  --context N       override the context length (the handout's T)
  --batch N         batch for the step FLOPs, a memory row and the training-time estimate (default 1024)
  --run DIR         instead: a finished run's achieved FLOP/s and MFU, from its metrics.jsonl and checkpoint
  --peak-tflops X   the peak to compare against (default: measured now with a MatMul probe on the CPU)
  --json            print the numbers as JSON instead of tables`;

const LABELS: Record<FlopComponent, string> = {
  qkvProjections: 'attention Q/K/V projections',
  attentionScores: 'attention scores QKᵀ',
  attentionValues: 'attention weighted values',
  outputProjection: 'attention output projection',
  feedForward: 'feed-forward W1, W2',
  lmHead: 'LM head',
};

const count = (n: number) => n.toLocaleString('en-US');
const percent = (x: number) => `${(100 * x).toFixed(1)}%`;
function scaled(n: number, unit: string): string {
  if (Math.abs(n) >= 1e18) return `${n.toExponential(2)} ${unit}`;
  for (const [factor, prefix] of [[1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']] as const) {
    if (Math.abs(n) >= factor) return `${(n / factor).toFixed(2)} ${prefix}${unit}`;
  }
  return `${n.toFixed(2)} ${unit}`;
}
const gb = (bytes: number) => `${(bytes / 1e9).toFixed(2)} GB`;

function describeModel(m: TransformerConfig): string {
  return `V ${count(m.vocabSize)}, T ${count(m.contextLength)}, L ${m.numLayers}, d ${m.dModel}, h ${m.numHeads}, d_ff ${m.dFf}; ` +
    `${m.norm}-norm${m.parallel ? ', parallel blocks' : ''}, ${m.tieEmbeddings ? 'tied' : 'untied'} LM head`;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)];
}

export function formatReport(name: string, r: ResourceReport): string {
  const out: string[] = [`${name}: ${describeModel(r.model)}`, ''];
  const p = r.parameters;
  out.push(`trainable parameters: ${count(p.total)} (${gb(4 * p.total)} in float32)`);
  out.push(`  embeddings ${count(p.embeddings)}, ${r.model.numLayers} layers × ${count(p.perLayer)}, final norm ${count(p.finalNorm)}, LM head ${count(p.lmHead)}`, '');

  out.push(`forward matmul FLOPs for one ${count(r.forward.seqLen)}-token sequence: ${scaled(r.forward.flops.total, 'FLOPs')}`);
  out.push(...table(['component', 'FLOPs', 'share', `at T ${count(r.longContext.seqLen)}`],
    FLOP_COMPONENTS.map((c) => [LABELS[c], scaled(r.forward.flops[c], 'FLOPs'), percent(r.forward.shares[c]), percent(r.longContext.shares[c])])).map((l) => `  ${l}`));
  out.push(`  at context ${count(r.longContext.seqLen)}: ${scaled(r.longContext.flops.total, 'FLOPs')} a sequence (${r.longContext.flopsRatio.toFixed(1)}× for ${(r.longContext.seqLen / r.forward.seqLen).toFixed(1)}× the tokens: attention is quadratic in T)`, '');

  out.push('share of forward FLOPs by GPT-2 size (T 1,024):');
  out.push(...table(['component', ...r.bySize.map((s) => s.preset)], [
    ...FLOP_COMPONENTS.map((c) => [LABELS[c], ...r.bySize.map((s) => percent(s.shares[c]))]),
    ['parameters', ...r.bySize.map((s) => scaled(s.parameters, ''))],
    ['forward FLOPs', ...r.bySize.map((s) => scaled(s.totalFlops, ''))],
  ]).map((l) => `  ${l}`), '');

  const m = r.memory;
  out.push(`AdamW peak memory (float32): ${gb(m.fixedBytes)} + ${gb(m.bytesPerSequence)} × batch_size`);
  out.push(`  (parameters ${gb(4 * p.total)}, gradients ${gb(4 * p.total)}, optimizer state m and v ${gb(8 * p.total)}; activations ${gb(m.bytesPerSequence)} a sequence)`);
  out.push(...table(['batch', 'parameters', 'gradients', 'optimizer', 'activations', 'total', `≤ ${gb(m.budgetBytes)}`],
    m.rows.map((row) => [count(row.batchSize), gb(row.parameters), gb(row.gradients), gb(row.optimizerState), gb(row.activations), gb(row.total), row.fits ? 'yes' : 'no'])).map((l) => `  ${l}`));
  out.push(`  largest batch in ${gb(m.budgetBytes)}: ${m.maxBatchSize}`, '');

  const s = r.step;
  out.push(`one AdamW step at batch ${count(s.batchSize)}: ${scaled(s.total, 'FLOPs')} (forward + backward ${scaled(s.forwardBackward, 'FLOPs')}, the update ${scaled(s.optimizer, 'FLOPs')})`);
  const t = r.training;
  out.push(`training ${count(t.steps)} steps at batch ${count(t.batchSize)}, ${percent(t.mfu)} MFU of ${scaled(t.peakFlopsPerSecond, 'FLOP/s')}: ` +
    `${scaled(t.flops, 'FLOPs')}, ${t.days >= 10 ? count(Math.round(t.days)) : t.days.toFixed(2)} days${t.days >= 365 ? ` (${(t.days / 365.25).toFixed(1)} years)` : ''} on one accelerator`);
  return out.join('\n');
}

interface RunMfu {
  runDir: string;
  model: TransformerConfig;
  seqLen: number;
  batchSize: number;
  steps: number;
  /** Median of the per-chunk training rates (steady state, excludes evaluation and checkpoints). */
  tokensPerSecond: number;
  /** Tokens seen over the run's wall time (includes evaluation, checkpoints, start-up). */
  overallTokensPerSecond: number;
  peakFlopsPerSecond: number;
  peakSource: string;
  flopsPerToken: number;
  achievedFlopsPerSecond: number;
  mfu: number;
  overallMfu: number;
}

async function runMfu(runDir: string, peakTflops: number | undefined): Promise<RunMfu> {
  const metricsFile = path.join(runDir, METRICS_FILE);
  if (!fs.existsSync(metricsFile)) throw new UsageError(`${runDir} has no ${METRICS_FILE}; pass the run directory of a finished cs336 train run`, 1);
  if (!fs.existsSync(checkpointPath(runDir))) throw new UsageError(`${runDir} has no checkpoint.safetensors (it holds the model config); pass a run directory that trained`, 1);
  const records = readMetrics(metricsFile).filter((r) => r.step > 0 && typeof r.tokensPerSecond === 'number');
  if (records.length === 0) throw new UsageError(`${metricsFile} has no training steps yet`, 1);
  const metadata = loadCheckpoint(runDir).metadata;
  const model = resolveTransformerConfig(metadata.modelConfig as Partial<TransformerConfig>);
  const seqLen = Number(metadata.trainConfig.contextLength) || model.contextLength;
  const batchSize = Number(metadata.trainConfig.batchSize);
  const rates = records.map((r) => r.tokensPerSecond!).sort((a, b) => a - b);
  const tokensPerSecond = rates[Math.floor(rates.length / 2)]!;
  const last = records.at(-1)!;
  const overallTokensPerSecond = last.tokensSeen / last.wallTime;
  let peakFlopsPerSecond: number;
  let peakSource: string;
  if (peakTflops !== undefined) {
    peakFlopsPerSecond = peakTflops * 1e12;
    peakSource = '--peak-tflops';
  } else {
    const threads = Number(metadata.trainConfig.threads) || undefined;
    const probe = await measureMatMulFlops({ size: 1024, seconds: 1, ...(threads ? { threads } : {}) });
    peakFlopsPerSecond = probe.flopsPerSecond;
    peakSource = `a ${probe.size}² float32 MatMul measured now on the CPU (best of ${probe.runs}${threads ? `, ${threads} threads as the run` : ''})`;
  }
  const mfu = modelFlopsUtilization(model, { tokensPerSecond, peakFlopsPerSecond, seqLen });
  return {
    runDir, model, seqLen, batchSize, steps: last.step, tokensPerSecond, overallTokensPerSecond, peakFlopsPerSecond, peakSource,
    flopsPerToken: mfu.flopsPerToken, achievedFlopsPerSecond: mfu.achievedFlopsPerSecond, mfu: mfu.mfu,
    overallMfu: (overallTokensPerSecond * mfu.flopsPerToken) / peakFlopsPerSecond,
  };
}

function formatRunMfu(r: RunMfu): string {
  return [
    `${r.runDir}: ${describeModel(r.model)}; batch ${r.batchSize} × ${r.seqLen} tokens, ${count(r.steps)} steps`,
    `training FLOPs per token (3 × forward matmuls): ${scaled(r.flopsPerToken, 'FLOPs')}`,
    `training rate (median over chunks): ${count(Math.round(r.tokensPerSecond))} tokens/s = ${scaled(r.achievedFlopsPerSecond, 'FLOP/s')}`,
    `peak: ${scaled(r.peakFlopsPerSecond, 'FLOP/s')} (${r.peakSource})`,
    `MFU: ${percent(r.mfu)}; over the whole wall time (evaluation and checkpoints included): ${count(Math.round(r.overallTokensPerSecond))} tokens/s, MFU ${percent(r.overallMfu)}`,
  ].join('\n');
}

export const accountCommand: Command = {
  name: 'account',
  summary: "the handout's resource accounting (parameters, FLOPs, AdamW memory, training time); --run: a run's MFU",
  usage: USAGE,
  flags: ['preset', 'config', 'context', 'batch', 'run', 'peak-tflops', 'json'],
  async run(argv) {
    let values: Record<string, string | boolean | undefined>;
    try {
      values = parseArgs({
        args: argv,
        options: { preset: { type: 'string' }, config: { type: 'string' }, context: { type: 'string' }, batch: { type: 'string' }, json: { type: 'boolean' }, run: { type: 'string' }, 'peak-tflops': { type: 'string' } },
        strict: true,
        allowPositionals: false,
      }).values;
    } catch (error) {
      throw new UsageError(`${(error as Error).message}`);
    }
    const json = values.json === true;
    const peakTflops = numberFlag('peak-tflops', values['peak-tflops'] as string | undefined);
    if (peakTflops !== undefined && !(peakTflops > 0)) throw new UsageError(`--peak-tflops must be positive; got ${peakTflops}`);
    if (typeof values.run === 'string') {
      for (const flag of ['preset', 'config', 'context', 'batch'] as const) {
        if (values[flag] !== undefined) throw new UsageError(`--${flag} does not go with --run (the run's checkpoint holds its config)`);
      }
      const result = await runMfu(values.run, peakTflops);
      console.log(json ? JSON.stringify(result, null, 2) : formatRunMfu(result));
      return 0;
    }
    if (peakTflops !== undefined) throw new UsageError(`--peak-tflops goes with --run DIR`);
    if (values.preset !== undefined && values.config !== undefined) throw new UsageError(`pass --preset or --config, not both`);
    let model: Partial<TransformerConfig>;
    let name: string;
    if (typeof values.config === 'string') {
      let file: ReturnType<typeof readRunConfigFile>;
      try {
        file = readRunConfigFile(values.config);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      model = file.model as Partial<TransformerConfig>;
      name = values.config;
    } else {
      const preset = (values.preset as string | undefined) ?? 'gpt2-xl';
      if (!(PRESETS as readonly string[]).includes(preset)) throw new UsageError(`--preset must be one of ${PRESETS.join(', ')}; got ${JSON.stringify(preset)}`);
      model = GPT2_PRESETS[preset.slice('gpt2-'.length) as keyof typeof GPT2_PRESETS];
      name = preset;
    }
    const context = integerFlag('context', values.context as string | undefined, 1);
    if (context !== undefined) model = { ...model, contextLength: context };
    const batchSize = integerFlag('batch', values.batch as string | undefined, 1) ?? 1024;
    let report: ResourceReport;
    try {
      report = resourceReport(model, { batchSize });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    console.log(json ? JSON.stringify(report, null, 2) : formatReport(name, report));
    return 0;
  },
};
