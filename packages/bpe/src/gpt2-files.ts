/**
 * Reading and writing a byte-level BPE model's files: GPT-2 `vocab.json` + `merges.txt` and Hugging
 * Face `tokenizer.json`. The parsing and formatting is in gpt2-format.ts; this file adds the disk.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatGpt2Merges, formatGpt2Vocab, parseGpt2Merges, parseGpt2Vocab, parseTokenizerJson, type Merge, type Vocab } from './gpt2-format.js';

/** Reads GPT-2 `vocab.json` + `merges.txt` (or what `writeGpt2Files` wrote). */
export async function readGpt2Files(vocabPath: string, mergesPath: string): Promise<{ vocab: Vocab; merges: Merge[] }> {
  const [vocabText, mergesText] = await Promise.all([readFile(vocabPath, 'utf8'), readFile(mergesPath, 'utf8')]);
  return { vocab: parseGpt2Vocab(vocabText, vocabPath), merges: parseGpt2Merges(mergesText, mergesPath) };
}

/** Writes `text` to `file` through a temporary sibling and a rename, so readers never see half a file. */
async function writeFileAtomic(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Writes `dir/vocab.json` and `dir/merges.txt` (each atomically), creating `dir` if needed. */
export async function writeGpt2Files(dir: string, vocab: ReadonlyMap<number, Uint8Array>, merges: readonly (readonly [Uint8Array, Uint8Array])[]): Promise<void> {
  // Format both before touching the disk, so a bad model leaves no file behind.
  const vocabText = formatGpt2Vocab(vocab);
  const mergesText = formatGpt2Merges(merges);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, 'vocab.json'), vocabText);
  await writeFileAtomic(path.join(dir, 'merges.txt'), mergesText);
}

/** Reads a Hugging Face ByteLevel BPE `tokenizer.json`; added tokens become the special tokens. */
export async function readTokenizerJson(file: string): Promise<{ vocab: Vocab; merges: Merge[]; specialTokens: string[] }> {
  return parseTokenizerJson(await readFile(file, 'utf8'), file);
}
