/** cs336 generate: sample text from a training checkpoint with a BPE tokenizer. */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Tokenizer } from '@cs336/tokenizer';
import { InferenceModel, generate } from '@cs336/train';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';

const END_OF_TEXT = '<|endoftext|>';
const USAGE = `cs336 generate --checkpoint DIR --tokenizer DIR --prompt TEXT [--max-new-tokens N] [--temperature T] [--top-p P] [--seed S] [--device cpu|cuda]

  --checkpoint DIR   a run directory (or its checkpoint.safetensors)
  --tokenizer DIR    folder with vocab.json + merges.txt (or a tokenizer.json file)
  --temperature T    0 = greedy (default 1);  --top-p P nucleus threshold in (0, 1] (default 1)
  Generation stops at ${END_OF_TEXT} when the vocabulary has it.`;

function number(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--${name} needs a number, got "${text}"`);
  return value;
}

async function loadTokenizer(where: string): Promise<Tokenizer> {
  if (!fs.existsSync(where)) throw new UsageError(`tokenizer not found: ${where}`);
  if (fs.statSync(where).isFile()) return Tokenizer.fromTokenizerJson(where);
  const vocab = path.join(where, 'vocab.json');
  const merges = path.join(where, 'merges.txt');
  if (fs.existsSync(vocab) && fs.existsSync(merges)) return Tokenizer.fromFiles(vocab, merges, [END_OF_TEXT]);
  const json = path.join(where, 'tokenizer.json');
  if (fs.existsSync(json)) return Tokenizer.fromTokenizerJson(json);
  throw new UsageError(`${where} has neither vocab.json + merges.txt nor tokenizer.json`);
}

export const generateCommand: Command = {
  name: 'generate',
  summary: 'sample text from a trained checkpoint',
  usage: USAGE,
  async run(argv) {
    let values: Record<string, string | boolean | undefined>;
    try {
      values = parseArgs({
        args: argv,
        options: {
          checkpoint: { type: 'string' }, tokenizer: { type: 'string' }, prompt: { type: 'string' },
          'max-new-tokens': { type: 'string' }, temperature: { type: 'string' }, 'top-p': { type: 'string' },
          seed: { type: 'string' }, device: { type: 'string' },
        },
      }).values;
    } catch (error) {
      throw new UsageError(`${(error as Error).message}\nusage: ${USAGE}`);
    }
    const checkpoint = values.checkpoint as string | undefined;
    const tokenizerDir = values.tokenizer as string | undefined;
    const prompt = values.prompt as string | undefined;
    if (!checkpoint || !tokenizerDir || prompt === undefined) throw new UsageError(`--checkpoint, --tokenizer and --prompt are required\nusage: ${USAGE}`);
    const device = (values.device as string | undefined) ?? 'cpu';
    if (device !== 'cpu' && device !== 'cuda') throw new UsageError(`--device must be cpu or cuda, got "${device}"`);
    const options = {
      maxNewTokens: number('max-new-tokens', values['max-new-tokens'] as string | undefined, 256),
      temperature: number('temperature', values.temperature as string | undefined, 1),
      topP: number('top-p', values['top-p'] as string | undefined, 1),
      seed: number('seed', values.seed as string | undefined, 0),
    };
    const tokenizer = await loadTokenizer(tokenizerDir);
    const model = await InferenceModel.fromCheckpoint(checkpoint, { device });
    try {
      const stop = tokenizer.specialTokenId(END_OF_TEXT);
      const ids = tokenizer.encode(prompt);
      if (ids.length === 0) {
        if (stop === undefined) throw new UsageError('the prompt is empty and the tokenizer has no <|endoftext|> to start from');
        ids.push(stop);
      }
      const context = ids.slice(-model.contextLength);
      process.stdout.write(prompt);
      // Print as tokens arrive; hold back a trailing partial UTF-8 character (decoded as U+FFFD) until it completes.
      const generated: number[] = [];
      let printed = '';
      const flush = (final: boolean) => {
        let text = tokenizer.decode(generated);
        if (!final) text = text.replace(/\uFFFD+$/, '');
        if (text.startsWith(printed)) process.stdout.write(text.slice(printed.length));
        printed = text;
      };
      await generate(model, context, {
        ...options,
        ...(stop !== undefined ? { stopToken: stop } : {}),
        onToken: (id) => { generated.push(id); flush(false); },
      });
      flush(true);
      process.stdout.write('\n');
      return 0;
    } finally {
      await model.release();
    }
  },
};
