/**
 * `cs336 bpe train`: learn a byte-level BPE vocabulary from a text file and save it as GPT-2
 * vocab.json + merges.txt and a Hugging Face tokenizer.json. Each file is written to a temporary
 * name and renamed into place, so an interrupted run leaves no half-written output.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatTokenizerJson, trainBpe, writeGpt2Files, type BpeProgress } from '@cs336/bpe';
import { UsageError, type Command } from '../command.js';
import { createProgressBar, formatDuration, type ProgressBar } from '../progress.js';
import { integerFlag } from '../flags.js';

const USAGE = "cs336 bpe train --input FILE --vocab-size N --special-token '<|endoftext|>' [--special-token ...] --out DIR [--workers N]";

export const bpeTrainCommand: Command = {
  name: 'bpe train',
  summary: 'learn a byte-level BPE vocab from a text file (writes vocab.json, merges.txt, tokenizer.json)',
  usage: USAGE,
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
        },
        strict: true,
        allowPositionals: false,
      }));
    } catch (error) {
      throw new UsageError(`${(error as Error).message}\nusage: ${USAGE}`);
    }
    if (!values.input) throw new UsageError(`--input FILE is required\nusage: ${USAGE}`);
    if (!values.out) throw new UsageError(`--out DIR is required\nusage: ${USAGE}`);
    const vocabSize = integerFlag('vocab-size', values['vocab-size'], 1);
    if (vocabSize === undefined) throw new UsageError(`--vocab-size N is required\nusage: ${USAGE}`);
    const workers = integerFlag('workers', values.workers, 0);
    const specialTokens = values['special-token'] ?? [];
    const outDir = values.out;
    const outStat = await fs.stat(outDir).catch(() => undefined);
    if (outStat && !outStat.isDirectory()) throw new UsageError(`--out ${JSON.stringify(outDir)} exists and is not a directory`);

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
    const model = await trainBpe({ input: values.input, vocabSize, specialTokens, workers, onProgress });
    (bar as ProgressBar | null)?.finish();

    // Format everything before writing anything.
    const tokenizerJson = formatTokenizerJson(model.vocab, model.merges, specialTokens);
    await writeGpt2Files(outDir, model.vocab, model.merges);
    await writeAtomic(path.join(outDir, 'tokenizer.json'), tokenizerJson);

    let longest: Uint8Array = new Uint8Array(0);
    for (const token of model.vocab.values()) if (token.length > longest.length) longest = token;
    const seconds = (performance.now() - started) / 1000;
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    console.log(`trained ${model.vocab.size} tokens (${model.merges.length} merges) in ${formatDuration(seconds)} (${seconds.toFixed(2)} s)`);
    console.log(`peak RSS ${peakRssMb.toFixed(0)} MB`);
    console.log(`longest token: ${JSON.stringify(new TextDecoder().decode(longest))} (${longest.length} bytes)`);
    console.log(`wrote ${['vocab.json', 'merges.txt', 'tokenizer.json'].map((f) => path.join(outDir, f)).join(', ')}`);
    return 0;
  },
};

async function writeAtomic(file: string, text: string): Promise<void> {
  const temporary = `${file}.tmp-${process.pid}`;
  try {
    await fs.writeFile(temporary, text);
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
}
