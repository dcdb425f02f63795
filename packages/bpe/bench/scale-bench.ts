/**
 * BPE training at OpenWebText scale: prints one JSON document to stdout (progress goes to stderr).
 *
 *   pnpm --filter @cs336/bpe build && nice -n 10 pnpm --filter @cs336/bpe bench:scale \
 *     [-- --sizes 0.5,1.5,4] [--workers 1,2] [--vocab 32000] [--dir DIR] [--seed 1] [--keep] [--generate-only]
 *
 * 1. Writes synthetic corpora of the given sizes in GB (owt-like-corpus.ts; real words plus a long
 *    Zipfian tail, so distinct pre-tokens grow with size as in web text) to DIR (default: a folder in
 *    the OS temp dir), in one pass: each smaller corpus is a prefix of the larger ones. A corpus
 *    already there from an earlier run with the same seed and generator version is reused, and a
 *    missing one is cut from a larger one when there is one.
 * 2. Trains BPE on each size with each worker count, every case in its own child process, and
 *    reports wall time, the counting and merge phases, peak RSS (process.resourceUsage().maxRSS:
 *    the whole process, worker threads included), distinct pre-tokens and a hash of the merges
 *    (the same for every worker count, since results are exact).
 * 3. Saves the model of the largest size (DIR/model-<size>/vocab.json, merges.txt) for the
 *    encodeFile scale bench of @cs336/tokenizer (see its README).
 * The corpora are deleted at the end unless --keep.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CORPUS_VERSION, wordsByFrequency, writeOwtLikeCorpus } from './owt-like-corpus.js';

interface ScaleCase {
  input: string;
  sizeGB: number;
  workers: number;
  vocabSize: number;
  /** Where to write the model (gpt2 files), or null. */
  saveTo: string | null;
}

interface ScaleResult {
  sizeGB: number;
  inputBytes: number;
  workers: number;
  vocabSize: number;
  wallSeconds: number;
  /** CPU seconds of every thread (user + system): steadier than wall time on a shared machine. */
  cpuSeconds: number;
  countSeconds: number;
  mergeSeconds: number;
  peakRssMB: number;
  /** RSS when the merge loop had started (words and the pair index built). */
  rssAtMergeStartMB: number;
  /** Peak RSS up to then (counting, words, index): the merge loop's own peak is higher when peakRssMB is. */
  peakRssBeforeMergeMB: number;
  /** The largest RSS seen at the merge loop's progress events (every 1/200 of the merges): its own peak, sampled. */
  mergeRssMaxMB: number;
  distinctPretokens: number | null;
  mergesSha256: string;
  loadAverage1m: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const sharedRoot = process.env.CS336_SHARED ?? path.resolve(here, '..', '..', '..', '..', 'shared');
const wordSource = process.env.CS336_WORDS ?? path.join(sharedRoot, 'data', 'gutenberg-children', 'train.txt');
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const mb = (bytes: number) => round(bytes / 2 ** 20, 0);

/** Child mode: train one case and print its result as one JSON line. */
async function runCase(c: ScaleCase): Promise<void> {
  const { trainBpe, writeGpt2Files } = await import('@cs336/bpe');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let mergeStart = 0;
  let rssAtMergeStart = 0;
  let peakBeforeMerge = 0;
  let mergeRssMax = 0;
  let distinct: number | null = null;
  let lastReport = 0;
  const model = await trainBpe({
    input: c.input, vocabSize: c.vocabSize, specialTokens: ['<|endoftext|>'], workers: c.workers,
    onProgress: (p) => {
      const now = performance.now();
      if (p.phase === 'merge') mergeRssMax = Math.max(mergeRssMax, process.memoryUsage.rss());
      if (p.phase === 'merge' && mergeStart === 0) {
        mergeStart = now;
        rssAtMergeStart = process.memoryUsage.rss();
        peakBeforeMerge = process.resourceUsage().maxRSS * 1024;
        distinct = (p as { distinctPretokens?: number }).distinctPretokens ?? null;
      }
      if (now - lastReport > 10_000) {
        lastReport = now;
        const done = p.phase === 'merge' ? `${p.mergesDone}/${p.mergesTotal} merges` : `${mb(p.bytesDone)} MB read`;
        process.stderr.write(`  ${c.sizeGB} GB, ${c.workers} worker(s): ${done}, ${round((now - t0) / 1000, 0)} s, RSS ${mb(process.memoryUsage.rss())} MB\n`);
      }
    },
  });
  const end = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const hash = createHash('sha256');
  for (const [a, b] of model.merges) hash.update(a).update(Uint8Array.of(0xff)).update(b).update(Uint8Array.of(0xfe));
  if (c.saveTo !== null) await writeGpt2Files(c.saveTo, model.vocab, model.merges);
  const result: ScaleResult = {
    sizeGB: c.sizeGB,
    inputBytes: fs.statSync(c.input).size,
    workers: c.workers,
    vocabSize: model.vocab.size,
    wallSeconds: round((end - t0) / 1000, 1),
    cpuSeconds: round((cpu.user + cpu.system) / 1e6, 1),
    countSeconds: round((mergeStart - t0) / 1000, 1),
    mergeSeconds: round((end - mergeStart) / 1000, 1),
    peakRssMB: mb(process.resourceUsage().maxRSS * 1024),
    rssAtMergeStartMB: mb(rssAtMergeStart),
    peakRssBeforeMergeMB: mb(peakBeforeMerge),
    mergeRssMaxMB: mb(mergeRssMax),
    distinctPretokens: distinct,
    mergesSha256: hash.digest('hex').slice(0, 16),
    loadAverage1m: round(os.loadavg()[0]!, 2),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function flag(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const value = args[i + 1];
  if (value === undefined || value.startsWith('--')) usage(`${name} needs a value`);
  return value;
}

function usage(problem: string): never {
  console.error(`scale-bench: ${problem}\nusage: scale-bench [--sizes 0.5,1.5,4] [--workers 1,2] [--vocab 32000] [--dir DIR] [--seed N] [--keep] [--generate-only]`);
  process.exit(2);
}

function numberList(text: string, name: string, integer: boolean): number[] {
  const values = text.split(',').map(Number);
  if (values.some((v) => !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v)))) usage(`${name} must be a comma-separated list of positive ${integer ? 'integers' : 'numbers'}; got ${text}`);
  return values;
}

/** Writes the missing corpora in one pass (smaller ones are prefixes of the largest). */
function ensureCorpora(dir: string, sizes: number[], seed: number): Map<number, string> {
  const files = new Map(sizes.map((gb) => [gb, path.join(dir, `owt-like-v${CORPUS_VERSION}-seed${seed}-${gb}GB.txt`)]));
  const done = (file: string) => fs.existsSync(`${file}.done`);
  const missing = sizes.filter((gb) => !done(files.get(gb)!));
  if (missing.length === 0) return files;
  const largest = Math.max(...missing);
  // A larger corpus from an earlier run (same seed and version): the missing ones are its prefixes.
  const larger = fs.readdirSync(dir).map((name) => /^owt-like-v(\d+)-seed(-?\d+)-([\d.]+)GB\.txt$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null && Number(m[1]) === CORPUS_VERSION && Number(m[2]) === seed && Number(m[3]) >= largest)
    .map((m) => path.join(dir, m[0])).filter(done)[0];
  if (larger !== undefined) {
    for (const gb of missing) copyPrefix(larger, files.get(gb)!, gb * 1e9);
    return files;
  }
  console.error(`scale-bench: reading the head words from ${wordSource}`);
  const head = wordsByFrequency(fs.readFileSync(wordSource, 'utf8'), 50_000);
  const temp = `${files.get(largest)!}.partial`;
  const t0 = performance.now();
  let last = 0;
  writeOwtLikeCorpus(temp, largest * 1e9, seed, head, (bytes) => {
    const now = performance.now();
    if (now - last < 10_000) return;
    last = now;
    const rate = bytes / 1e6 / ((now - t0) / 1000);
    console.error(`  corpus: ${round(bytes / 1e9, 2)}/${largest} GB, ${round(rate, 1)} MB/s, ETA ${round((largest * 1e9 - bytes) / 1e6 / rate, 0)} s`);
  });
  fs.renameSync(temp, files.get(largest)!);
  fs.writeFileSync(`${files.get(largest)!}.done`, '');
  // The smaller ones: prefixes of the largest, cut after the first separator past their size.
  for (const gb of missing.filter((g) => g !== largest)) copyPrefix(files.get(largest)!, files.get(gb)!, gb * 1e9);
  console.error(`scale-bench: corpora written in ${round((performance.now() - t0) / 1000, 0)} s`);
  return files;
}

function copyPrefix(from: string, to: string, bytes: number): void {
  const separator = Buffer.from('<|endoftext|>');
  const input = fs.openSync(from, 'r');
  const output = fs.openSync(`${to}.partial`, 'w');
  const piece = Buffer.allocUnsafe(16 << 20);
  let copied = 0;
  for (;;) {
    const n = fs.readSync(input, piece, 0, piece.length, copied);
    if (n === 0) break;
    let take = n;
    if (copied + n >= bytes) {
      const at = piece.subarray(0, n).indexOf(separator, Math.max(0, bytes - copied));
      if (at >= 0) take = at + separator.length;
    }
    fs.writeSync(output, piece, 0, take);
    copied += take;
    if (take < n) break;
  }
  fs.closeSync(input);
  fs.closeSync(output);
  fs.renameSync(`${to}.partial`, to);
  fs.writeFileSync(`${to}.done`, '');
}

function main(): void {
  const args = process.argv.slice(2);
  const caseIndex = args.indexOf('--case');
  if (caseIndex >= 0) {
    runCase(JSON.parse(args[caseIndex + 1]!) as ScaleCase).catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
    return;
  }
  if (!fs.existsSync(path.join(here, '..', 'dist', 'index.js'))) {
    console.error('scale-bench: packages/bpe/dist is missing; build first (pnpm --filter @cs336/bpe build)');
    process.exit(1);
  }
  const sizes = numberList(flag(args, '--sizes', '0.5,1.5,4'), '--sizes', false).sort((a, b) => a - b);
  const workerCounts = numberList(flag(args, '--workers', '1,2'), '--workers', true);
  const vocabSize = Number(flag(args, '--vocab', '32000'));
  const seed = Number(flag(args, '--seed', '1'));
  const dir = path.resolve(flag(args, '--dir', path.join(os.tmpdir(), 'cs336-bpe-scale')));
  if (!Number.isInteger(vocabSize) || vocabSize < 257) usage(`--vocab must be an integer ≥ 257; got ${vocabSize}`);
  if (!Number.isInteger(seed)) usage(`--seed must be an integer; got ${seed}`);
  if (!fs.existsSync(wordSource)) {
    console.error(`scale-bench: the head-word source ${wordSource} is missing; set CS336_WORDS to an English text file`);
    process.exit(1);
  }
  fs.mkdirSync(dir, { recursive: true });
  const files = ensureCorpora(dir, sizes, seed);
  if (args.includes('--generate-only')) return;
  const results: (ScaleResult | { sizeGB: number; workers: number; failed: string })[] = [];
  const largest = sizes.at(-1)!;
  for (const gb of sizes) {
    for (const workers of workerCounts) {
      const saveTo = gb === largest && workers === workerCounts.at(-1) ? path.join(dir, `model-${gb}GB`) : null;
      const c: ScaleCase = { input: files.get(gb)!, sizeGB: gb, workers, vocabSize, saveTo };
      console.error(`scale-bench: ${gb} GB, vocab ${vocabSize}, ${workers} worker(s)`);
      const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--case', JSON.stringify(c)], {
        encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20,
      });
      if (child.status !== 0) {
        const failed = `exit ${child.status ?? child.signal}`;
        console.error(`scale-bench: ${gb} GB with ${workers} worker(s) failed (${failed})`);
        results.push({ sizeGB: gb, workers, failed });
        continue;
      }
      const result = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as ScaleResult;
      console.error(`  ${JSON.stringify(result)}`);
      results.push(result);
    }
  }
  if (!args.includes('--keep')) for (const file of files.values()) for (const f of [file, `${file}.done`]) fs.rmSync(f, { force: true });
  const cpus = os.cpus();
  console.log(JSON.stringify({
    machine: { cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', memoryGB: round(os.totalmem() / 2 ** 30, 1), node: process.version, loadAverage: os.loadavg().map((x) => round(x, 2)) },
    corpus: { version: CORPUS_VERSION, seed, dir, kept: args.includes('--keep') },
    model: path.join(dir, `model-${largest}GB`),
    results,
  }, null, 2));
}

main();
