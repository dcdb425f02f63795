/**
 * Reading and writing a byte-level BPE model's files: GPT-2 `vocab.json` + `merges.txt` and Hugging
 * Face `tokenizer.json`. The parsing and formatting is in gpt2-format.ts; this file adds the disk.
 */
import { readFile } from 'node:fs/promises';
import { writeFileSet, type WriteFileSetOptions } from './file-set.js';
import { formatGpt2Merges, formatGpt2Vocab, formatTokenizerJson, parseGpt2Merges, parseGpt2Vocab, parseTokenizerJson, type Merge, type Vocab } from './gpt2-format.js';

/** Reads GPT-2 `vocab.json` + `merges.txt` (or what `writeGpt2Files` wrote). */
export async function readGpt2Files(vocabPath: string, mergesPath: string): Promise<{ vocab: Vocab; merges: Merge[] }> {
  const [vocabText, mergesText] = await Promise.all([readFile(vocabPath, 'utf8'), readFile(mergesPath, 'utf8')]);
  return { vocab: parseGpt2Vocab(vocabText, vocabPath), merges: parseGpt2Merges(mergesText, mergesPath) };
}

/** Writes `dir/vocab.json` and `dir/merges.txt` as one set (file-set.ts), creating `dir` if needed. */
export async function writeGpt2Files(dir: string, vocab: ReadonlyMap<number, Uint8Array>, merges: readonly (readonly [Uint8Array, Uint8Array])[]): Promise<void> {
  // Format both before touching the disk, so a bad model leaves no file behind.
  await writeFileSet(dir, [['vocab.json', formatGpt2Vocab(vocab)], ['merges.txt', formatGpt2Merges(merges)]]);
}

/** The files `writeTokenizerFiles` writes, in order. */
export const TOKENIZER_FILES = ['vocab.json', 'merges.txt', 'tokenizer.json'] as const;

/**
 * Writes `dir/vocab.json`, `dir/merges.txt` and `dir/tokenizer.json` as one set (file-set.ts says
 * exactly what readers can see), creating `dir` if needed. Everything is formatted first.
 */
export async function writeTokenizerFiles(
  dir: string,
  vocab: ReadonlyMap<number, Uint8Array>,
  merges: readonly (readonly [Uint8Array, Uint8Array])[],
  specialTokens: readonly string[] = [],
  options: WriteFileSetOptions = {},
): Promise<void> {
  const texts = [formatGpt2Vocab(vocab), formatGpt2Merges(merges), formatTokenizerJson(vocab, merges, specialTokens)];
  await writeFileSet(dir, TOKENIZER_FILES.map((name, i) => [name, texts[i]!] as const), options);
}

/** Reads a Hugging Face ByteLevel BPE `tokenizer.json`; added tokens become the special tokens. */
export async function readTokenizerJson(file: string): Promise<{ vocab: Vocab; merges: Merge[]; specialTokens: string[] }> {
  return parseTokenizerJson(await readFile(file, 'utf8'), file);
}
