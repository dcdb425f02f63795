/**
 * `cs336 tokenize`: encode a text file into a token file (raw little-endian uint16/uint32 ids plus a
 * `<out>.json` sidecar) on worker threads, with a progress bar. Both files are written to temporary
 * names and renamed into place, so a failed run leaves nothing behind.
 *
 * Also home of the tokenizer flags shared with `encode` and `decode`.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readGpt2Files } from '@cs336/bpe';
import { Tokenizer } from '@cs336/tokenizer';
import { UsageError, type Command } from '../command.js';
import { createProgressBar } from '../progress.js';
import { integerFlag } from '../flags.js';

const DEFAULT_SPECIAL_TOKEN = '<|endoftext|>';

/** Flags that pick a tokenizer: `--tokenizer DIR` or `--vocab F --merges F`, plus `--special-token T`. */
export const TOKENIZER_OPTIONS = {
  tokenizer: { type: 'string' },
  vocab: { type: 'string' },
  merges: { type: 'string' },
  'special-token': { type: 'string', multiple: true },
} satisfies ParseArgsConfig['options'];

export const TOKENIZER_USAGE = '(--tokenizer DIR | --vocab vocab.json --merges merges.txt) [--special-token T ...]';

/** Flag values: strings, except the repeatable --special-token. */
export type FlagValues = { [flag: string]: string | undefined } & { 'special-token'?: string[] };

/** Parses `argv` with the tokenizer flags plus the string flags `extra`; a bad flag is a UsageError showing `usage`. */
export function parseFlags(argv: string[], extra: readonly string[], usage: string): FlagValues {
  const options: NonNullable<ParseArgsConfig['options']> = { ...TOKENIZER_OPTIONS };
  for (const flag of extra) options[flag] = { type: 'string' };
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as FlagValues;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nusage: ${usage}`);
  }
}

/**
 * Loads the tokenizer the flags name. DIR holds vocab.json + merges.txt (or a tokenizer.json).
 * Without --special-token, <|endoftext|> is the special token when the vocab has it.
 */
export async function loadTokenizer(values: FlagValues, usage: string): Promise<Tokenizer> {
  let vocabPath = values.vocab;
  let mergesPath = values.merges;
  if (values.tokenizer !== undefined) {
    if (vocabPath !== undefined || mergesPath !== undefined) throw new UsageError(`use either --tokenizer DIR or --vocab/--merges, not both\nusage: ${usage}`);
    const dir = values.tokenizer;
    const stat = await fs.stat(dir).catch(() => undefined);
    if (!stat?.isDirectory()) throw new UsageError(`--tokenizer ${JSON.stringify(dir)} is not a directory; it should hold vocab.json and merges.txt`);
    vocabPath = path.join(dir, 'vocab.json');
    mergesPath = path.join(dir, 'merges.txt');
    const hasGpt2Files = (await Promise.all([vocabPath, mergesPath].map((f) => fs.access(f).then(() => true, () => false)))).every(Boolean);
    if (!hasGpt2Files) {
      const json = path.join(dir, 'tokenizer.json');
      if (await fs.access(json).then(() => true, () => false)) return Tokenizer.fromTokenizerJson(json);
      throw new UsageError(`--tokenizer ${JSON.stringify(dir)} has neither vocab.json + merges.txt nor tokenizer.json`);
    }
  }
  if (vocabPath === undefined || mergesPath === undefined) throw new UsageError(`a tokenizer is required: --tokenizer DIR, or both --vocab and --merges\nusage: ${usage}`);
  const { vocab, merges } = await readGpt2Files(vocabPath, mergesPath);
  let specialTokens = values['special-token'];
  if (specialTokens === undefined) {
    const endOfText = Buffer.from(DEFAULT_SPECIAL_TOKEN);
    specialTokens = [...vocab.values()].some((bytes) => endOfText.equals(bytes)) ? [DEFAULT_SPECIAL_TOKEN] : [];
  }
  try {
    return new Tokenizer(vocab, merges, specialTokens);
  } catch (error) {
    throw new Error(`${vocabPath} + ${mergesPath}: ${(error as Error).message}`);
  }
}

const USAGE = `cs336 tokenize ${TOKENIZER_USAGE} --input FILE --out FILE.bin [--workers N]`;

export const tokenizeCommand: Command = {
  name: 'tokenize',
  summary: 'encode a text file into a uint16/uint32 token file + JSON sidecar, on all cores',
  usage: USAGE,
  async run(argv) {
    const values = parseFlags(argv, ['input', 'out', 'workers'], USAGE);
    if (!values.input) throw new UsageError(`--input FILE is required\nusage: ${USAGE}`);
    if (!values.out) throw new UsageError(`--out FILE.bin is required\nusage: ${USAGE}`);
    const workers = integerFlag('workers', values.workers, 0) ?? os.availableParallelism(); // 0 = this thread
    const inputStat = await fs.stat(values.input).catch(() => undefined);
    if (!inputStat?.isFile()) throw new UsageError(`--input ${JSON.stringify(values.input)} does not exist or is not a file`);
    const tokenizer = await loadTokenizer(values, USAGE);

    const bar = createProgressBar({ label: 'tokenize', total: inputStat.size, unit: 'MB', scale: 1e6 });
    const started = performance.now();
    const sidecar = await tokenizer.encodeFile(values.input, values.out, {
      workers,
      onProgress: ({ bytesDone, tokens }) => bar.update(bytesDone, { tokens }),
    });
    bar.finish({ tokens: sidecar.count });
    const seconds = (performance.now() - started) / 1000;
    console.log(`${sidecar.count} tokens (${sidecar.dtype}, vocab ${sidecar.vocabSize}) from ${(inputStat.size / 1e6).toFixed(1)} MB in ${seconds.toFixed(2)} s (${(inputStat.size / 1e6 / seconds).toFixed(1)} MB/s, ${workers} workers)`);
    console.log(`wrote ${values.out} and ${values.out}.json (tokenizer ${sidecar.tokenizerHash.slice(0, 12)})`);
    return 0;
  },
};
