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
import { makeDirectories, readGpt2Files } from '@cs336/bpe';
import { Tokenizer } from '@cs336/tokenizer';
import { UsageError, type Command } from '../command.js';
import { createProgressBar } from '../progress.js';
import { integerFlag, joinNegativeValues } from '../flags.js';
import { checkOutputFile } from '../preflight.js';

const DEFAULT_SPECIAL_TOKEN = '<|endoftext|>';

/** Flags that pick a tokenizer: `--tokenizer DIR` or `--vocab F --merges F`, plus `--special-token T`. */
export const TOKENIZER_OPTIONS = {
  tokenizer: { type: 'string' },
  vocab: { type: 'string' },
  merges: { type: 'string' },
  'special-token': { type: 'string', multiple: true },
} satisfies ParseArgsConfig['options'];

export const TOKENIZER_USAGE = '(--tokenizer DIR | --vocab vocab.json --merges merges.txt) [--special-token T ...]';

/** Help lines for the tokenizer flags. */
export const TOKENIZER_HELP = `  --tokenizer DIR     a folder holding vocab.json + merges.txt (or a tokenizer.json), as \`cs336 bpe train\` writes
  --vocab FILE        a GPT-2 style vocab.json (with --merges, instead of --tokenizer)
  --merges FILE       a GPT-2 style merges.txt (with --vocab)
  --special-token T   a special token (repeat for more; default <|endoftext|> when the vocab has it)`;

/** The tokenizer flags' names, for a command's flag list. */
export const TOKENIZER_FLAGS = ['tokenizer', 'vocab', 'merges', 'special-token'] as const;

/** Flag values: strings, except the repeatable --special-token and the switches (true when given). */
export type FlagValues = { [flag: string]: string | undefined } & { 'special-token'?: string[] };

/**
 * Parses `argv` with the tokenizer flags, the string flags `extra` and the switches `switches`
 * (a switch reads as 'true' when given); a bad flag is a UsageError.
 */
export function parseFlags(argv: string[], extra: readonly string[], _usage: string, switches: readonly string[] = []): FlagValues {
  const options: NonNullable<ParseArgsConfig['options']> = { ...TOKENIZER_OPTIONS };
  for (const flag of extra) options[flag] = { type: 'string' };
  for (const flag of switches) options[flag] = { type: 'boolean' };
  let values: Record<string, unknown>;
  try {
    const valueFlags = new Set(Object.keys(options).filter((flag) => options[flag]!.type === 'string'));
    values = parseArgs({ args: joinNegativeValues(argv, valueFlags), options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  for (const flag of switches) if (values[flag] !== undefined) values[flag] = String(values[flag]);
  return values as FlagValues;
}

/**
 * Loads the tokenizer the flags name. DIR holds vocab.json + merges.txt (or a tokenizer.json).
 * Without --special-token, <|endoftext|> is the special token when the vocab has it.
 */
export async function loadTokenizer(values: FlagValues, _usage: string): Promise<Tokenizer> {
  let vocabPath = values.vocab;
  let mergesPath = values.merges;
  if (values.tokenizer !== undefined) {
    if (vocabPath !== undefined || mergesPath !== undefined) throw new UsageError(`use either --tokenizer DIR or --vocab/--merges, not both`);
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
  if (vocabPath === undefined || mergesPath === undefined) throw new UsageError(`a tokenizer is required: --tokenizer DIR, or both --vocab and --merges`);
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

const USAGE = `cs336 tokenize ${TOKENIZER_USAGE} --input FILE --out FILE.bin [--workers N] [--strict]

${TOKENIZER_HELP}
  --input FILE        the text to encode (UTF-8; bytes that are not UTF-8 are encoded as U+FFFD and counted)
  --out FILE.bin      the token file (uint16, or uint32 above 65,536 ids) and FILE.bin.json beside it; its folder is created if missing
  --workers N         encoding threads, 0 = this thread (default: one per core)
  --strict            fail (writing nothing) if the input is not valid UTF-8, instead of replacing the bad bytes`;

export const tokenizeCommand: Command = {
  name: 'tokenize',
  summary: 'encode a text file into a uint16/uint32 token file + JSON sidecar, on all cores',
  usage: USAGE,
  flags: [...TOKENIZER_FLAGS, 'input', 'out', 'workers', 'strict'],
  async run(argv) {
    const values = parseFlags(argv, ['input', 'out', 'workers'], USAGE, ['strict']);
    // Everything is checked before encoding: a bad flag or an unwritable --out costs nothing.
    if (!values.input) throw new UsageError('--input FILE is required');
    if (!values.out) throw new UsageError('--out FILE.bin is required');
    const workers = integerFlag('workers', values.workers, 0) ?? os.availableParallelism(); // 0 = this thread
    const inputStat = await fs.stat(values.input).catch(() => undefined);
    if (!inputStat?.isFile()) throw new UsageError(`--input ${JSON.stringify(values.input)} does not exist or is not a file`);
    checkOutputFile('out', values.out);
    checkOutputFile('out', `${values.out}.json`);
    const tokenizer = await loadTokenizer(values, USAGE);
    const strictUtf8 = values.strict === 'true';
    await makeDirectories(path.dirname(path.resolve(values.out)));

    const bar = createProgressBar({ label: 'tokenize', total: inputStat.size, unit: 'MB', scale: 1e6 });
    const started = performance.now();
    let result;
    try {
      result = await tokenizer.encodeFile(values.input, values.out, {
        workers,
        strictUtf8,
        onProgress: ({ bytesDone, tokens }) => bar.update(bytesDone, { tokens }),
      });
    } catch (error) {
      if (strictUtf8 && /is not valid UTF-8/.test((error as Error).message)) throw new UsageError(`${(error as Error).message}; nothing written`, 1);
      throw error;
    }
    bar.finish({ tokens: result.count });
    if (result.invalidUtf8Bytes > 0) console.error(`warning: ${result.invalidUtf8Bytes} byte(s) of ${values.input} are not UTF-8 and were encoded as U+FFFD (--strict refuses such input)`);
    const seconds = (performance.now() - started) / 1000;
    console.log(`${result.count} tokens (${result.dtype}, vocab ${result.vocabSize}) from ${(inputStat.size / 1e6).toFixed(1)} MB in ${seconds.toFixed(2)} s (${(inputStat.size / 1e6 / seconds).toFixed(1)} MB/s, ${workers} workers)`);
    console.log(`wrote ${values.out} and ${values.out}.json (tokenizer ${result.tokenizerHash.slice(0, 12)})`);
    return 0;
  },
};
