/** cs336 generate: sample text from a training checkpoint with a BPE tokenizer. */
import { InferenceModel, generate } from '@cs336/train';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { TOKENIZER_USAGE, loadTokenizer, parseFlags } from './tokenize.js';
import { integerFlag, numberFlag } from '../flags.js';

const END_OF_TEXT = '<|endoftext|>';
const USAGE = `cs336 generate --checkpoint DIR ${TOKENIZER_USAGE} --prompt TEXT [--max-new-tokens N] [--temperature T] [--top-p P] [--seed S] [--device cpu|cuda]

  --checkpoint DIR   a run directory (or its checkpoint.safetensors)
  --tokenizer DIR    defaults to the "tokenizer" recorded in the checkpoint's train config
  --temperature T    0 = greedy (default 1);  --top-p P nucleus threshold in (0, 1] (default 1)
  Generation stops at ${END_OF_TEXT} when the tokenizer has it.`;


export const generateCommand: Command = {
  name: 'generate',
  summary: 'sample text from a trained checkpoint',
  usage: USAGE,
  async run(argv) {
    const values = parseFlags(argv, ['checkpoint', 'prompt', 'max-new-tokens', 'temperature', 'top-p', 'seed', 'device'], USAGE);
    const { checkpoint, prompt } = values;
    if (!checkpoint || prompt === undefined) throw new UsageError(`--checkpoint and --prompt are required\nusage: ${USAGE}`);
    const device = values.device ?? 'cpu';
    if (device !== 'cpu' && device !== 'cuda') throw new UsageError(`--device must be cpu or cuda, got "${device}"`);
    const options = {
      maxNewTokens: integerFlag('max-new-tokens', values['max-new-tokens'], 1) ?? 256,
      temperature: numberFlag('temperature', values.temperature) ?? 1,
      topP: numberFlag('top-p', values['top-p']) ?? 1,
      seed: integerFlag('seed', values.seed, 0) ?? 0,
    };
    const model = await InferenceModel.fromCheckpoint(checkpoint, { device });
    try {
      const recorded = model.metadata?.trainConfig.tokenizer;
      const noTokenizerFlag = values.tokenizer === undefined && values.vocab === undefined && values.merges === undefined;
      if (noTokenizerFlag && typeof recorded === 'string' && recorded !== '') values.tokenizer = recorded;
      const tokenizer = await loadTokenizer(values, USAGE);
      const trainedWith = model.metadata?.tokenizerHash;
      if (trainedWith && trainedWith !== tokenizer.hash()) {
        throw new UsageError(`this tokenizer (hash ${tokenizer.hash().slice(0, 12)}) is not the one the model's training data was tokenized with (${trainedWith.slice(0, 12)}); pass that tokenizer`);
      }
      const stop = tokenizer.specialTokenId(END_OF_TEXT);
      const ids = tokenizer.encode(prompt);
      if (ids.length === 0) {
        if (stop === undefined) throw new UsageError(`the prompt is empty and the tokenizer has no ${END_OF_TEXT} to start from`);
        ids.push(stop);
      }
      const outOfRange = ids.find((id) => id >= model.vocabSize);
      if (outOfRange !== undefined) throw new UsageError(`the tokenizer produced id ${outOfRange} but the model's vocabulary has ${model.vocabSize} ids; use the tokenizer the model was trained with`);
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
      await generate(model, ids.slice(-model.contextLength), {
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
