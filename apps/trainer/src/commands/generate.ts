/** cs336 generate: sample text from a training checkpoint with a BPE tokenizer. */
import { DEFAULT_GENERATE_OPTIONS, InferenceModel, generate, resolveGenerateOptions } from '@cs336/train';
import type { Command } from '../command.js';
import { UsageError, asUsageError } from '../command.js';
import { TOKENIZER_FLAGS, TOKENIZER_HELP, loadTokenizer, parseFlags } from './tokenize.js';
import { deviceFlag, integerFlag, numberFlag } from '../flags.js';

const END_OF_TEXT = '<|endoftext|>';
const D = DEFAULT_GENERATE_OPTIONS;
const USAGE = `cs336 generate --checkpoint DIR --prompt TEXT [--tokenizer DIR | --vocab F --merges F] [--special-token T ...] [--max-new-tokens N] [--temperature T] [--top-p P] [--seed S] [--device cpu|cuda]

  --checkpoint DIR    a run directory (or its checkpoint.safetensors)
  --prompt TEXT       the text to continue; it is printed first. An empty prompt starts from ${END_OF_TEXT}.
                      A prompt longer than the model's context keeps only its last context-length tokens
                      as the model's input (a note on stderr says so); the whole prompt is still printed.
${TOKENIZER_HELP}
                      (default tokenizer: the "tokenizer" recorded in the checkpoint's train config)
  --max-new-tokens N  tokens to sample at most (default ${D.maxNewTokens}); generation stops early at ${END_OF_TEXT} when the tokenizer has it
  --temperature T     ≥ 0; 0 = greedy (default ${D.temperature})
  --top-p P           nucleus threshold in (0, 1]; 1 = the whole distribution (default ${D.topP})
  --seed S            integer ≥ 0 for the sampler (default ${D.seed}); the same seed gives the same text
  --device D          cpu (default) or cuda`;

export const generateCommand: Command = {
  name: 'generate',
  summary: 'sample text from a trained checkpoint',
  usage: USAGE,
  flags: ['checkpoint', 'prompt', ...TOKENIZER_FLAGS, 'max-new-tokens', 'temperature', 'top-p', 'seed', 'device'],
  async run(argv) {
    const values = parseFlags(argv, ['checkpoint', 'prompt', 'max-new-tokens', 'temperature', 'top-p', 'seed', 'device'], USAGE);
    const { checkpoint, prompt } = values;
    if (!checkpoint || prompt === undefined) throw new UsageError('--checkpoint and --prompt are required');
    const device = deviceFlag(values.device);
    // Sampling options are checked before the model is loaded or anything is printed.
    const options = asUsageError(() => resolveGenerateOptions({
      maxNewTokens: integerFlag('max-new-tokens', values['max-new-tokens'], 1) ?? D.maxNewTokens,
      temperature: numberFlag('temperature', values.temperature, { min: 0 }) ?? D.temperature,
      topP: numberFlag('top-p', values['top-p'], { min: 0, minExclusive: true, max: 1 }) ?? D.topP,
      seed: integerFlag('seed', values.seed, 0) ?? D.seed,
    }));
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
      if (ids.length > model.contextLength) console.error(`note: the prompt is ${ids.length} tokens; the model sees only its last ${model.contextLength} (its context length)`);
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
