/**
 * cs336 train: config file + overrides → train() with a progress bar. Ctrl-C (SIGINT) or SIGTERM
 * saves a checkpoint and exits 0; --resume continues from the run directory's checkpoint (only on
 * the same tokenizer and data), --fresh replaces it; with neither, a run directory that holds a
 * checkpoint is refused (exit 2).
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { RunStateError, applyOverrides, readRunConfigFile, resolveTrainRunConfig, train, type TrainConfig } from '@cs336/train';
import type { Command } from '../command.js';
import { UsageError, asUsageError } from '../command.js';
import { checkOutputDirectory } from '../preflight.js';
import { joinNegativeValues } from '../flags.js';
import { createProgressBar, type ProgressBar } from '../progress.js';

const USAGE = `cs336 train [--config cfg.json] [--resume | --fresh] [--device cpu|cuda] [--precision fp32|fp16] [--k N] [--threads N] [--<field> VALUE ...]

  --config FILE     JSON: { "model": { vocabSize, contextLength, dModel, ... }, trainData, validationData, runDir, steps, ... }
                    (optional: every field can come from flags instead)
  --resume          continue from <runDir>/checkpoint.safetensors; refused when its tokenizer or data
                    (content hashes in the checkpoint) differ from the token files given now
  --fresh           replace a checkpoint already in <runDir> (without --resume or --fresh, a run
                    directory that holds one is refused, so a finished run is never overwritten)
  --device D        cpu (default) or cuda
  --precision P     fp32 (default) or fp16: float16 matmuls and activations, float32 master weights, AdamW
                    state and loss, dynamic loss scaling (--loss-scale-init 65536, --loss-scale-window 2000)
  --k N             optimizer steps fused into one ONNX Runtime call
  --threads N       ONNX Runtime intra-op threads (default: the runtime's choice); at a fixed count a run, and a
                    resume, repeats bit for bit (another count may differ in the last bits)
  --init-from FILE  start from these weights (a checkpoint.safetensors, or a PyTorch state dict saved with
                    safetensors under the course's names) with fresh optimizer state; names and shapes are checked
  --<field> VALUE   override any train field (kebab or camel case: --lr 1e-3 --steps 200 --batch-size 8 --run-dir runs/x)
                    or model field (--model.dModel 256); each override is printed
  Every field is checked, and the run directory must be writable, before any work starts.`;

/** Splits argv into the known flags and `--field value` overrides (parseArgs' tokens pair them up). */
export function parseTrainArgs(argv: string[]): { config?: string; resume: boolean; fresh: boolean; overrides: Record<string, string> } {
  const { values, tokens } = parseArgs({
    args: joinNegativeValues(argv, { has: (flag) => flag !== 'resume' && flag !== 'fresh' }),
    options: { config: { type: 'string' }, resume: { type: 'boolean', default: false }, fresh: { type: 'boolean', default: false } },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const overrides: Record<string, string> = {};
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.kind === 'positional') throw new UsageError(`unexpected argument "${token.value}"`);
    if (token.kind !== 'option' || token.name === 'config' || token.name === 'resume' || token.name === 'fresh') continue;
    let value = token.value;
    if (value === undefined) {
      const next = tokens[i + 1];
      if (next?.kind !== 'positional') throw new UsageError(`--${token.name} needs a value`);
      value = next.value;
      i++;
    }
    overrides[token.name] = value;
  }
  const config = typeof values.config === 'string' ? values.config : undefined;
  if (values.resume === true && values.fresh === true) throw new UsageError(`--resume and --fresh exclude each other: --resume continues the checkpoint, --fresh replaces it`);
  return { ...(config !== undefined ? { config } : {}), resume: values.resume === true, fresh: values.fresh === true, overrides };
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'train a Transformer LM on token files (ONNX Runtime, resumable checkpoints)',
  usage: USAGE,
  flags: ['config', 'resume', 'fresh', 'device', 'precision', 'k', 'threads', '<field>'],
  async run(argv) {
    const args = parseTrainArgs(argv);
    let resolved: ReturnType<typeof applyOverrides>;
    try {
      // The file's problems (unreadable, an unknown or mistyped field, the model section's included) are usage errors too.
      const file = args.config ? readRunConfigFile(args.config) : { model: {}, train: {} };
      resolved = applyOverrides(file.train, file.model, args.overrides);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    for (const change of resolved.changes) console.error(`override ${change.field}: ${JSON.stringify(change.from)} → ${JSON.stringify(change.to)}`);
    if (!resolved.train.trainData) throw new UsageError('no training data: set "trainData" in the config or pass --train-data FILE');
    // Every field, and the run directory, before any work (artifacts, data, sessions).
    const { train: complete } = asUsageError(() => resolveTrainRunConfig({ model: resolved.model, train: resolved.train as Partial<TrainConfig> }));
    checkOutputDirectory('run-dir', complete.runDir);
    if (complete.initFrom && !fs.existsSync(complete.initFrom)) throw new UsageError(`--init-from ${complete.initFrom} does not exist; give a checkpoint.safetensors or a safetensors state dict`);

    let bar: ProgressBar | undefined;
    let startStep = 0;
    const result = await train({ model: resolved.model, train: resolved.train as Partial<TrainConfig>, resume: args.resume, fresh: args.fresh }, {
      log: (line) => console.error(line),
      handleSignals: true,
      onStart: (info) => {
        startStep = info.step;
        bar = createProgressBar({ label: 'train', total: info.steps - info.step, unit: 'steps' });
      },
      onProgress: (p) => {
        // fp16: the loss scale shows only when a step of the chunk was skipped (it just halved).
        const scaling: Record<string, number> = p.skippedSteps ? { skipped: p.skippedSteps, 'loss scale': p.lossScale! } : {};
        bar?.update(p.step - startStep, { step: p.step, loss: p.loss.toFixed(4), 'tok/s': Math.round(p.tokensPerSecond), lr: p.lr.toExponential(2), ...scaling });
      },
    }).catch((error: unknown) => {
      if (error instanceof RunStateError) throw new UsageError(error.message); // what to pass instead: exit 2
      throw error;
    });
    bar?.finish(result.finalTrainLoss !== undefined ? { loss: result.finalTrainLoss.toFixed(4) } : {});
    const summary = [`step ${result.step}`, result.finalTrainLoss !== undefined ? `train loss ${result.finalTrainLoss.toFixed(4)}` : '', result.finalValLoss !== undefined ? `validation loss ${result.finalValLoss.toFixed(4)}` : ''];
    console.log(`${result.interrupted ? 'interrupted' : 'done'}: ${summary.filter(Boolean).join(', ')}; checkpoint ${result.checkpoint}; metrics ${result.metricsFile}`);
    return 0;
  },
};
