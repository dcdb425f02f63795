// Child process for the memory bound: streams `argv[2]` MB of generated text (never held in memory as a
// whole) through encodeIterable and reports the largest RSS growth over the baseline taken after warm-up.
// The text mixes a fixed word list with random letter strings, so the pre-token cache keeps filling up
// and being dropped, and puts <|endoftext|> between paragraphs.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '../dist/index.js';

const fixtures = process.env.CS336_FIXTURES ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/fixtures/cs336-2024');
const megabytes = Number(process.argv[2] ?? 100);
const tokenizer = await Tokenizer.fromFiles(path.join(fixtures, 'gpt2_vocab.json'), path.join(fixtures, 'gpt2_merges.txt'), ['<|endoftext|>']);

let seed = 12345;
const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
const words = 'the a little girl named Lily found needle in her room She knew it was difficult to play with because sharp wanted share mom so could sew button on shirt'
  .split(' ')
  .map((word) => Buffer.from(` ${word}`));
const endOfText = Buffer.from('<|endoftext|>');
const paragraph = Buffer.from('.\n\n');
// Each chunk is written as bytes into one reused buffer and decoded once, so the generator itself
// makes almost no garbage and the RSS measured is the encoder's.
const buffer = Buffer.alloc(65536 + 64);
const decoder = new TextDecoder();
function* chunks(totalBytes) {
  for (let produced = 0; produced < totalBytes; ) {
    let n = 0;
    while (n < 65536) {
      const r = random();
      if (r < 0.1) {
        buffer[n++] = 0x20;
        for (let k = 3 + Math.floor(random() * 8); k > 0; k--) buffer[n++] = 97 + Math.floor(random() * 26);
      } else if (r < 0.12) n += paragraph.copy(buffer, n);
      else if (r < 0.121) n += endOfText.copy(buffer, n);
      else n += words[Math.floor(random() * words.length)].copy(buffer, n);
    }
    produced += n;
    yield decoder.decode(buffer.subarray(0, n));
  }
}

// Warm up (JIT, tokenizer tables, a full cache) before the baseline.
let count = 0;
for (const _ of tokenizer.encodeIterable(chunks(4e6))) count++;
const baseline = process.memoryUsage().rss;
let peak = baseline;
let chunksSeen = 0;
const source = chunks(megabytes * 1e6);
function* watched() {
  for (const chunk of source) {
    if (++chunksSeen % 16 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    yield chunk;
  }
}
const start = performance.now();
count = 0;
for (const _ of tokenizer.encodeIterable(watched())) count++;
peak = Math.max(peak, process.memoryUsage().rss);
console.log(JSON.stringify({ megabytes, tokens: count, seconds: Number(((performance.now() - start) / 1000).toFixed(1)), baselineRssMB: Number((baseline / 1e6).toFixed(1)), rssGrowthMB: Number(((peak - baseline) / 1e6).toFixed(1)) }));
