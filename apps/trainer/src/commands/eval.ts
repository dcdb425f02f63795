/** cs336 eval: validation loss and perplexity of a checkpoint on any token file. */
import { parseArgs } from 'node:util';
import { evaluateCheckpoint } from '@cs336/train';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { integerFlag } from '../flags.js';
import { createProgressBar, type ProgressBar } from '../progress.js';

const USAGE = `cs336 eval --checkpoint DIR --data FILE.bin [--batch-size N] [--batches N|all] [--context N] [--data-dtype uint16|uint32] [--device cpu|cuda] [--threads N] [--json]

  --checkpoint DIR  a run directory (or its checkpoint.safetensors)
  --data FILE.bin   a token file from cs336 tokenize (with the run's tokenizer)
  --batch-size N    sequences per batch (default: the run's batch size)
  --batches N|all   batches from the start of the file (default all; the run's evalBatches gives its logged valLoss)
  --context N       tokens per sequence (default: the run's context length)
  --data-dtype T    uint16 or uint32 ids, for a token file without a sidecar (default: the run's dataDtype)
  --device D        cpu (default) or cuda
  --threads N       ONNX Runtime intra-op threads (default: the runtime's choice)
  --json            print the result as JSON
  Windows are non-overlapping, from the start of the file, as in training's evaluation.`;

export const evalCommand: Command = {
  name: 'eval',
  summary: 'validation loss and perplexity of a checkpoint on a token file',
  usage: USAGE,
  flags: ['checkpoint', 'data', 'batch-size', 'batches', 'context', 'data-dtype', 'device', 'threads', 'json'],
  async run(argv) {
    let values: Record<string, string | boolean | undefined>;
    try {
      values = parseArgs({
        args: argv,
        options: { checkpoint: { type: 'string' }, data: { type: 'string' }, 'batch-size': { type: 'string' }, batches: { type: 'string' }, context: { type: 'string' }, 'data-dtype': { type: 'string' }, device: { type: 'string' }, threads: { type: 'string' }, json: { type: 'boolean' } },
        strict: true,
        allowPositionals: false,
      }).values;
    } catch (error) {
      throw new UsageError(`${(error as Error).message}`);
    }
    const checkpoint = values.checkpoint as string | undefined;
    const data = values.data as string | undefined;
    if (!checkpoint || !data) throw new UsageError(`--checkpoint and --data are required`);
    const device = (values.device as string | undefined) ?? 'cpu';
    if (device !== 'cpu' && device !== 'cuda') throw new UsageError(`--device must be cpu or cuda, got "${device}"`);
    const dataDtype = values['data-dtype'] as string | undefined;
    if (dataDtype !== undefined && dataDtype !== 'uint16' && dataDtype !== 'uint32') throw new UsageError(`--data-dtype must be uint16 or uint32, got "${dataDtype}"`);
    const batchSize = integerFlag('batch-size', values['batch-size'] as string | undefined, 1);
    const contextLength = integerFlag('context', values.context as string | undefined, 1);
    const threads = integerFlag('threads', values.threads as string | undefined, 1);
    const batchesText = (values.batches as string | undefined) ?? 'all';
    const batches = batchesText === 'all' ? 'all' : integerFlag('batches', batchesText, 1)!;
    let bar: ProgressBar | undefined;
    const result = await evaluateCheckpoint(checkpoint, data, {
      device,
      batches,
      ...(batchSize !== undefined ? { batchSize } : {}),
      ...(contextLength !== undefined ? { contextLength } : {}),
      ...(threads !== undefined ? { threads } : {}),
      ...(dataDtype !== undefined ? { dtype: dataDtype } : {}),
      onBatch: (done, total) => {
        bar ??= createProgressBar({ label: 'eval', total, unit: 'batches' });
        bar.update(done);
      },
    }).catch((error: unknown) => {
      // Option checks (a context longer than the model's, ...) are usage errors: exit 2.
      if (error instanceof Error && error.message.startsWith('evaluate: ')) throw new UsageError(error.message);
      throw error;
    });
    bar?.finish();
    const summary = { checkpoint, step: result.step, data, loss: result.loss, perplexity: result.perplexity, batches: result.batches, batchSize: result.batchSize, contextLength: result.contextLength, tokens: result.tokens };
    console.log(values.json
      ? JSON.stringify(summary, null, 2)
      : `${checkpoint} (step ${result.step}) on ${data}: loss ${result.loss.toFixed(4)} nats/token, perplexity ${result.perplexity.toFixed(2)} ` +
        `(${result.batches} batches × ${result.batchSize} × ${result.contextLength} = ${result.tokens.toLocaleString('en-US')} tokens)`);
    return 0;
  },
};
