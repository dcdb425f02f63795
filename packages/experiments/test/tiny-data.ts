/** A tiny corpus, a 300-token BPE and its token files in the layout `--data DIR` expects. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTokenizerJson, trainBpe, writeGpt2Files } from '@cs336/bpe';
import { Tokenizer } from '@cs336/tokenizer';
import type { WorkerCommand } from '../src/experiment-runner.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The worker from source, through tsx (jest runs the runner from source too). */
export function testWorker(env: Record<string, string> = {}): WorkerCommand {
  return { script: path.join(here, 'variant-child.ts'), execArgv: ['--import', 'tsx'], env: { TSX_TSCONFIG_PATH: path.join(here, 'tsconfig.child.json'), ...env } };
}

export async function writeTinyData(dir: string): Promise<string> {
  const sentences = ['the cat sat on the mat.', 'a dog ran to the park.', 'the bird sang a song.', 'we like to read books.', 'once upon a time there was a fox.'];
  const text = (n: number, seed: number) => Array.from({ length: n }, (_, i) => sentences[(i * 7 + seed) % sentences.length]).join(' ');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'train.txt'), `${text(600, 0)}<|endoftext|>${text(600, 3)}`);
  fs.writeFileSync(path.join(dir, 'valid.txt'), text(200, 1));
  const specials = ['<|endoftext|>'];
  const model = await trainBpe({ input: path.join(dir, 'train.txt'), vocabSize: 300, specialTokens: specials, workers: 1 });
  const tokenizerDir = path.join(dir, 'tokenizer');
  await writeGpt2Files(tokenizerDir, model.vocab, model.merges);
  fs.writeFileSync(path.join(tokenizerDir, 'tokenizer.json'), formatTokenizerJson(model.vocab, model.merges, specials));
  const tokenizer = await Tokenizer.fromTokenizerJson(path.join(tokenizerDir, 'tokenizer.json'));
  for (const split of ['train', 'valid']) await tokenizer.encodeFile(path.join(dir, `${split}.txt`), path.join(dir, `${split}.bin`), { workers: 0 });
  return dir;
}
