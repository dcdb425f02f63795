/**
 * Single-thread encode speed on GPT-2's vocab, side by side with the npm BPE encoders, after checking
 * that all of them give identical ids; encodeFile speed with 1 and 2 workers; and the streaming
 * memory bound (≥ 100 MB through encodeIterable in a child process). Prints one JSON object.
 *
 *   pnpm --filter @cs336/tokenizer build && pnpm --filter @cs336/tokenizer bench
 *   BENCH_QUICK=1 ... for a faster, rougher run.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { encode as gptTokenizerEncode } from 'gpt-tokenizer/encoding/gpt2';
import { getEncoding } from 'js-tiktoken';
import { get_encoding } from 'tiktoken';
import { fixturePath, sharedDataDir } from '../../../test-support/fixtures.js';
import { Tokenizer } from '../dist/index.js';

const SPECIAL = '<|endoftext|>';
const quick = process.env.BENCH_QUICK === '1';
const runs = quick ? 2 : 7;
const here = path.dirname(fileURLToPath(import.meta.url));

type Encoder = (text: string) => ArrayLike<number>;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * MB/s of each encoder on `text`. The machine is shared, so the encoders take turns: one warm-up
 * each, then `runs` rounds in which every encoder runs once. A burst of outside load then hits all
 * of them alike; `best` is the least disturbed run, `median` the typical one.
 */
function measureInTurns(encoders: Record<string, Encoder>, text: string) {
  const megabytes = Buffer.byteLength(text) / 1e6;
  const rates: Record<string, number[]> = {};
  for (const [name, encode] of Object.entries(encoders)) {
    encode(text);
    rates[name] = [];
  }
  for (let round = 0; round < runs; round++) {
    for (const [name, encode] of Object.entries(encoders)) {
      const start = performance.now();
      encode(text);
      rates[name]!.push(megabytes / ((performance.now() - start) / 1000));
    }
  }
  return Object.fromEntries(
    Object.entries(rates).map(([name, r]) => [name, { medianMbPerSecond: Number(median(r).toFixed(2)), bestMbPerSecond: Number(Math.max(...r).toFixed(2)) }]),
  );
}

function sameIds(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Total encode rate of two threads encoding different slices at once ÷ the rate of one thread alone,
 * per round (one alone, then both), median over `rounds`. The threads are warmed up first.
 */
async function parallelEncodeRatio(tokenizer: Tokenizer, file: string, length: number, rounds: number): Promise<{ median: number; rounds: number[] }> {
  const workers = [0, 1].map((i) => new Worker(new URL('./parallel-encode-worker.mjs', import.meta.url), {
    workerData: { compiled: tokenizer.compiled(), file, offset: i * length, length },
  }));
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve)))); // 'ready': slice read, encoder warm
  const go = (threads: Worker[]) => Promise.all(threads.map((w) => new Promise<number>((resolve) => { w.once('message', resolve); w.postMessage('go'); })));
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const [one] = await go([workers[0]!]);
    const [a, b] = await go(workers);
    ratios.push((a! + b!) / one!);
  }
  await Promise.all(workers.map((w) => w.terminate()));
  return { median: Number(median(ratios).toFixed(2)), rounds: ratios.map((r) => Number(r.toFixed(2))) };
}

/**
 * encodeFile's speed with 1 and 2 workers on `input`, measured in a fresh process (encode-file-speed.mjs)
 * as the CLI would run it: this one holds the other encoders' tables, and its garbage collector's
 * helper threads would compete with the workers.
 */
function measureEncodeFile(input: string, dir: string, rounds: number): Record<string, unknown> {
  const child = spawnSync(process.execPath, [path.join(here, 'encode-file-speed.mjs'), input, dir, String(rounds)], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`encodeFile speed child failed: ${child.stderr}`);
  return JSON.parse(child.stdout) as Record<string, unknown>;
}

async function busyThreadsCores(threads: number): Promise<number> {
  const code = "const t = Date.now(); let x = 0; while (Date.now() - t < 1500) x += Math.sqrt(x + 1); require('node:worker_threads').parentPort.postMessage(x);";
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: threads }, () => new Promise<void>((resolve) => {
      const worker = new Worker(code, { eval: true });
      worker.once('message', () => void worker.terminate().then(() => resolve()));
    })),
  );
  const cpu = process.cpuUsage(cpuBefore);
  return Number(((cpu.user + cpu.system) / 1e6 / ((performance.now() - start) / 1000)).toFixed(2));
}

async function main() {
  const ours = await Tokenizer.fromFiles(fixturePath('gpt2_vocab.json'), fixturePath('gpt2_merges.txt'), [SPECIAL]);
  const jsTiktoken = getEncoding('gpt2');
  const wasm = get_encoding('gpt2');
  const encoders: Record<string, Encoder> = {
    '@cs336/tokenizer': (text) => ours.encode(text),
    'js-tiktoken@1.0.21': (text) => jsTiktoken.encode(text, [SPECIAL]),
    // gpt-tokenizer 4.0.0's gpt2 encoding ignores allowedSpecial for <|endoftext|> (it encodes it as
    // text), so it is given the text between specials and the special's id (50256) is put between.
    'gpt-tokenizer@4.0.0': (text) => {
      const ids: number[] = [];
      text.split(SPECIAL).forEach((segment, i) => {
        if (i > 0) ids.push(50256);
        for (const id of gptTokenizerEncode(segment)) ids.push(id);
      });
      return ids;
    },
    'tiktoken@1.0.22 (wasm)': (text) => wasm.encode(text, [SPECIAL]),
  };

  const corpora = [
    { name: 'gutenberg-children/valid.txt', file: path.join(sharedDataDir(), 'gutenberg-children', 'valid.txt') },
    { name: 'tinystories/v1-valid-head.txt', file: path.join(sharedDataDir(), 'tinystories', 'v1-valid-head.txt') },
  ];
  const results = [];
  for (const corpus of corpora) {
    const text = fs.readFileSync(corpus.file, 'utf8');
    const expected = ours.encode(text);
    for (const [name, encode] of Object.entries(encoders)) {
      if (!sameIds(encode(text), expected)) throw new Error(`${name} gives different ids from @cs336/tokenizer on ${corpus.name}; not timing it`);
    }
    const speeds = measureInTurns(encoders, text);
    const oursSpeed = speeds['@cs336/tokenizer']!;
    const ratio = (key: 'medianMbPerSecond' | 'bestMbPerSecond') =>
      Object.fromEntries(Object.entries(speeds).filter(([name]) => name !== '@cs336/tokenizer').map(([name, s]) => [name, Number((oursSpeed[key] / s[key]).toFixed(2))]));
    const ratios = { median: ratio('medianMbPerSecond'), best: ratio('bestMbPerSecond') };
    results.push({ corpus: corpus.name, bytes: Buffer.byteLength(text), tokens: expected.length, idsIdentical: true, speeds, oursOverOthers: ratios });
  }
  wasm.free();

  // encodeFile with 1 and 2 worker threads: on gutenberg train (114.7 MB; the first 8 MB with
  // BENCH_QUICK=1), and at dataset scale on a 2.3 GB file made of that text 20 times over, the size of
  // TinyStories' training set (skipped with BENCH_QUICK=1). On the small file the fixed costs of a run
  // (starting workers, V8 compiling the encoder in each) are a visible share of the time.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenizer-bench-'));
  const encodeFileResults: Record<string, Record<string, unknown>> = {};
  const trainText = path.join(sharedDataDir(), 'gutenberg-children', 'train.txt');
  try {
    if (quick) {
      const input = path.join(dir, 'input.txt');
      const head = Buffer.alloc(8e6);
      const fd = fs.openSync(trainText, 'r');
      fs.readSync(fd, head, 0, head.length, 0);
      fs.closeSync(fd);
      fs.writeFileSync(input, head.subarray(0, head.lastIndexOf(10) + 1));
      encodeFileResults['gutenberg train, first 8 MB'] = measureEncodeFile(input, dir, 1);
    } else {
      encodeFileResults['gutenberg train'] = measureEncodeFile(trainText, dir, 7);
      const big = path.join(dir, 'train-x20.txt');
      const train = fs.readFileSync(trainText);
      for (let i = 0; i < 20; i++) fs.appendFileSync(big, train);
      encodeFileResults['gutenberg train x20 (TinyStories-sized)'] = measureEncodeFile(big, dir, 5);
      fs.rmSync(big);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  // Control: how many cores two busy threads actually get right now. On a shared machine this is
  // often well under 2, and then no encodeFile speed-up can show.
  const controls: Record<string, unknown> = {};
  controls['cores two busy threads get'] = await busyThreadsCores(2);
  // Ceiling: two independent, warmed-up encoders on two threads, each on its own 30 MB slice, against
  // one alone (median of 5 rounds).
  // Whatever they lose to each other (shared caches, memory bandwidth, GC helper threads) bounds the
  // encodeFile speed-up no matter how the work is split.
  controls['two independent encoders vs one (throughput ratio)'] = await parallelEncodeRatio(ours, trainText, quick ? 4e6 : 30e6, quick ? 1 : 5);

  // Memory: a fresh process streams ≥ 100 MB of generated text through encodeIterable.
  const child = spawnSync(process.execPath, [path.join(here, 'encode-iterable-memory.mjs'), String(quick ? 100 : 128)], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`memory child failed: ${child.stderr}`);
  const memory = JSON.parse(child.stdout) as { megabytes: number; rssGrowthMB: number };

  console.log(
    JSON.stringify(
      {
        machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.arch()}` },
        note: 'single thread unless stated; encoders take turns (one warm-up, then rounds); measured on a shared machine under load',
        encode: results,
        encodeFile: { ...encodeFileResults, controls },
        encodeIterableMemory: { ...memory, boundMB: 32, withinBound: memory.rssGrowthMB <= 32 },
      },
      null,
      2,
    ),
  );
  if (memory.rssGrowthMB > 32) process.exitCode = 1;
}

await main();
