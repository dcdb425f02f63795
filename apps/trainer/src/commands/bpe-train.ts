/**
 * `cs336 bpe train`: learn a byte-level BPE vocabulary from a text file and save it as GPT-2
 * vocab.json + merges.txt and a Hugging Face tokenizer.json. Flags, the input and the output
 * directory are all checked before training starts; the three files are written as one set
 * (writeTokenizerFiles: staged on the same file system, then moved in), so a failure never leaves a mixed set.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { TOKENIZER_FILES, resolveTrainBpeConfig, trainBpe, writeTokenizerFiles, type BpeProgress } from '@cs336/bpe';
import { UsageError, asUsageError, type Command } from '../command.js';
import { createProgressBar, formatDuration, type ProgressBar } from '../progress.js';
import { integerFlag } from '../flags.js';
import { checkOutputDirectory, checkReplaceableFiles } from '../preflight.js';

const USAGE = `cs336 bpe train --input FILE --vocab-size N --out DIR [--special-token T ...] [--workers N] [--strict]

  --input FILE        the training text (UTF-8; bytes that are not UTF-8 are read as U+FFFD and counted)
  --vocab-size N      final vocabulary size: 256 bytes + special tokens + merges
  --out DIR           where vocab.json, merges.txt and tokenizer.json go (created if missing; other files in it are kept)
  --special-token T   a special token, never merged (repeat for more; usually '<|endoftext|>'; default none)
  --workers N         pre-tokenization threads, 0 = this thread (default: one per core)
  --strict            fail (writing nothing) if the input is not valid UTF-8, instead of replacing the bad bytes`;

/** Set by tests only: the file name whose write fails (to check that a failed set leaves the old one). */
const FAIL_WRITE = process.env.CS336_TEST_FAIL_WRITE;

export const bpeTrainCommand: Command = {
  name: 'bpe train',
  summary: 'learn a byte-level BPE vocab from a text file (writes vocab.json, merges.txt, tokenizer.json)',
  usage: USAGE,
  flags: ['input', 'vocab-size', 'out', 'special-token', 'workers', 'strict'],
  async run(argv) {
    let values;
    try {
      ({ values } = parseArgs({
        args: argv,
        options: {
          input: { type: 'string' },
          'vocab-size': { type: 'string' },
          'special-token': { type: 'string', multiple: true },
          out: { type: 'string' },
          workers: { type: 'string' },
          strict: { type: 'boolean' },
        },
        strict: true,
        allowPositionals: false,
      }));
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    // Everything is checked before training: a bad flag or an unwritable --out costs nothing.
    if (!values.input) throw new UsageError('--input FILE is required');
    if (!values.out) throw new UsageError('--out DIR is required');
    const vocabSize = integerFlag('vocab-size', values['vocab-size'], 1);
    if (vocabSize === undefined) throw new UsageError('--vocab-size N is required');
    const workers = integerFlag('workers', values.workers, 0);
    const specialTokens = values['special-token'] ?? [];
    const strictUtf8 = values.strict === true;
    asUsageError(() => resolveTrainBpeConfig({ vocabSize, specialTokens, ...(workers !== undefined ? { workers } : {}), strictUtf8 }));
    const inputStat = fs.statSync(values.input, { throwIfNoEntry: false });
    if (!inputStat) throw new UsageError(`--input ${JSON.stringify(values.input)} does not exist`);
    if (!inputStat.isFile()) throw new UsageError(`--input ${JSON.stringify(values.input)} is not a regular file`);
    const outDir = values.out;
    checkOutputDirectory('out', outDir);
    checkReplaceableFiles('out', outDir, TOKENIZER_FILES);

    const started = performance.now();
    let bar: ProgressBar | null = null;
    let phase: BpeProgress['phase'] | null = null;
    const onProgress = (p: BpeProgress) => {
      if (p.phase !== phase) {
        bar?.finish();
        phase = p.phase;
        bar = p.phase === 'pretokenize'
          ? createProgressBar({ label: 'pre-tokenize', total: p.bytesTotal ?? 0, unit: 'MB', scale: 1e6 })
          : createProgressBar({ label: 'merge', total: p.mergesTotal, unit: 'merges' });
      }
      bar?.update(p.phase === 'pretokenize' ? p.bytesDone : p.mergesDone);
    };
    let model;
    try {
      model = await trainBpe({ input: values.input, vocabSize, specialTokens, workers, strictUtf8, onProgress });
    } catch (error) {
      if (strictUtf8 && /is not valid UTF-8/.test((error as Error).message)) throw new UsageError(`${(error as Error).message}; nothing written`, 1);
      throw error;
    }
    (bar as ProgressBar | null)?.finish();
    if (model.invalidUtf8Bytes > 0) console.error(`warning: ${model.invalidUtf8Bytes} byte(s) of ${values.input} are not UTF-8 and were read as U+FFFD (--strict refuses such input)`);

    await writeTokenizerFiles(outDir, model.vocab, model.merges, specialTokens, {
      beforeWrite: (name) => { if (name === FAIL_WRITE) throw new Error(`CS336_TEST_FAIL_WRITE: failing on purpose before writing ${name}`); },
    });

    let longest: Uint8Array = new Uint8Array(0);
    for (const token of model.vocab.values()) if (token.length > longest.length) longest = token;
    const seconds = (performance.now() - started) / 1000;
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    console.log(`trained ${model.vocab.size} tokens (${model.merges.length} merges) in ${formatDuration(seconds)} (${seconds.toFixed(2)} s)`);
    console.log(`peak RSS ${peakRssMb.toFixed(0)} MB`);
    console.log(`longest token: ${JSON.stringify(new TextDecoder().decode(longest))} (${longest.length} bytes)`);
    console.log(`wrote ${TOKENIZER_FILES.map((f) => path.join(outDir, f)).join(', ')}`);
    return 0;
  },
};
