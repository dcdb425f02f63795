/**
 * The compact structures that keep training bounded at OWT scale (the byte-keyed pre-token table
 * moved between threads, 16-bit symbols, the varint-coded pair → words index and its pool, the
 * merged symbols' word lists, pairs kept only above a count until all are counted again) checked against
 * the slow reference trainer on corpora with many distinct pre-tokens: enough to grow every table
 * and pool several times, with two worker tables summed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trainBpeReference, type BpeModel } from './reference-bpe.js';
import { trainBpe } from './train-bpe.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const mergeStrings = (model: BpeModel) => model.merges.map(([l, r]) => `${hex(l)} ${hex(r)}`);

/** Deterministic word soup: a Zipf-ish head of short words and a tail of random ones (mixed scripts). */
function manyWordsText(seed: number, words: number): string {
  let state = seed >>> 0;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const letters = ['a', 'b', 'c', 'd', 'e', 'o', 'r', 's', 't', 'é', 'ж', 'я', '中', '😀', '1', '7', '.', "'", 'A', 'T'];
  const word = (length: number) => Array.from({ length }, () => letters[Math.floor(random() * random() * letters.length)]!).join('');
  const head = Array.from({ length: 40 }, () => word(1 + Math.floor(random() * 4)));
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    out.push(random() < 0.6 ? head[Math.floor(random() * random() * head.length)]! : word(2 + Math.floor(random() * 9)));
    if (random() < 0.02) out.push('<|endoftext|>');
  }
  return out.join(random() < 0.9 ? ' ' : '\n');
}

function tempFile(contents: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'train-bpe-scale-'));
  const file = path.join(dir, 'input.txt');
  fs.writeFileSync(file, contents);
  return file;
}

describe('trainBpe on many distinct pre-tokens', () => {
  it('gives the reference merges on one thread and on 2 worker threads', async () => {
    const text = manyWordsText(7, 60_000);
    const file = tempFile(text);
    const events: number[] = [];
    const reference = mergeStrings(trainBpeReference(text, 700, ['<|endoftext|>']));
    for (const workers of [0, 2]) {
      const model = await trainBpe({
        input: file, vocabSize: 700, specialTokens: ['<|endoftext|>'], workers, chunkChars: 40_000,
        onProgress: (p) => { if (p.phase === 'merge') events.push(p.distinctPretokens); },
      });
      expect(mergeStrings(model)).toEqual(reference);
    }
    // Many more distinct pre-tokens than the table's first 4,096 slots (so it grew, and on 2 workers
    // two tables were summed).
    expect(Math.min(...events)).toBeGreaterThan(15_000);
  });

  it('gives the reference merges whatever the pair-tracking threshold (all pairs counted again early, late or never)', async () => {
    const text = manyWordsText(5, 20_000);
    const file = tempFile(text);
    const reference = mergeStrings(trainBpeReference(text, 900, ['<|endoftext|>']));
    // 0: every pair kept from the start; 2 and 5: only kept pairs to the end (the last merge here
    // counts more); 20 and 100: all pairs counted again part way (at merge 270 and 100, measured),
    // once the best kept count falls below; 10**9: counted again before the first merge.
    for (const pairTrackingMinCount of [0, 2, 5, 20, 100, 10 ** 9]) {
      const model = await trainBpe({ input: file, vocabSize: 900, specialTokens: ['<|endoftext|>'], workers: 0, pairTrackingMinCount });
      expect(mergeStrings(model)).toEqual(reference);
    }
  });

  it('gives the reference merges with 32-bit symbols (vocab above 65,536), running out of pairs', async () => {
    const text = manyWordsText(11, 400);
    const reference = trainBpeReference(text, 70_000, ['<|endoftext|>']);
    const model = await trainBpe({ input: tempFile(text), vocabSize: 70_000, specialTokens: ['<|endoftext|>'], workers: 0 });
    expect(reference.merges.length).toBeLessThan(70_000 - 257);
    expect(mergeStrings(model)).toEqual(mergeStrings(reference));
  });
});
