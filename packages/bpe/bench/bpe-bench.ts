/**
 * BPE training benchmark: prints one JSON document to stdout (progress goes to stderr).
 *
 *   pnpm --filter @cs336/bpe build && pnpm --filter @cs336/bpe bench [-- --quick] [-- --repeat N]
 *
 * Every case runs in its own child process so peak RSS (process.resourceUsage().maxRSS) is that
 * case's alone. Wall time is the training call only (no process start), as in the course's
 * speed test. MB/s = input file bytes / wall time. Cases:
 *   - corpus.en, vocab 500, <|endoftext|>: the course speed bar (< 1.5 s);
 *   - gutenberg-children/train.txt (115 MB) at vocab 10k and 32k with 1 and 2 workers;
 *   - the same file at vocab 30000, ours vs the Hugging Face `tokenizers` npm package (Rust;
 *     ByteLevel pre-tokenizer, default BPE trainer, whose vocab size is 30000), side by side.
 *   - pre-tokenization alone on valid.txt (4.7 MB, in memory): forEachPretoken vs the RegExp;
 *   - the UTF-8 check alone (Utf8Check over 1 MiB chunks, as trainBpe reads them; in memory), on
 *     valid.txt and on the training file: its cost beside the training it rides along with.
 * --quick swaps the 115 MB file for valid.txt (4.7 MB) and runs one case per kind.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface BenchCase {
  name: string;
  trainer: 'cs336' | 'hf-tokenizers' | 'pretokenize-scanner' | 'pretokenize-regexp' | 'utf8-check';
  input: string;
  vocabSize: number;
  workers?: number;
}

interface BenchResult extends BenchCase {
  inputMB: number;
  wallSeconds: number;
  mbPerSecond: number;
  /** Reading + pre-tokenizing + counting (the rest of wallSeconds is the merge phase); cs336 only. */
  pretokenizeSeconds?: number;
  peakRssMB: number;
  /** Vocab size trained (pre-tokens found, for the pre-tokenizer cases). */
  vocabSizeOut: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..', '..');
const sharedRoot = process.env.CS336_SHARED ?? path.resolve(repoRoot, '..', 'shared');
const fixtures = process.env.CS336_FIXTURES ?? path.join(sharedRoot, 'fixtures', 'cs336-2024');
const data = process.env.CS336_DATA ?? path.join(sharedRoot, 'data');

/** Child mode: run one case and print its result as one JSON line. */
async function runCase(c: BenchCase): Promise<void> {
  let vocabSizeOut: number;
  if (c.trainer === 'cs336') {
    // The built package (self-reference resolves to dist/), as a user would run it.
    const { trainBpe } = await import('@cs336/bpe');
    const t0 = performance.now();
    let mergeStart = 0;
    const model = await trainBpe({
      input: c.input, vocabSize: c.vocabSize, specialTokens: ['<|endoftext|>'], workers: c.workers,
      onProgress: (p) => { if (p.phase === 'merge' && mergeStart === 0) mergeStart = performance.now(); },
    });
    vocabSizeOut = model.vocab.size;
    report(c, performance.now() - t0, vocabSizeOut, mergeStart > 0 ? (mergeStart - t0) / 1000 : undefined);
  } else if (c.trainer === 'pretokenize-scanner' || c.trainer === 'pretokenize-regexp') {
    // Pre-tokenization alone, on text already in memory: the hand-written scanner vs the RegExp.
    const { forEachPretoken, GPT2_PATTERN } = await import('@cs336/bpe');
    const text = fs.readFileSync(c.input, 'utf8');
    let pretokens = 0;
    const t0 = performance.now();
    if (c.trainer === 'pretokenize-scanner') {
      forEachPretoken(text, () => { pretokens++; });
    } else {
      const re = new RegExp(GPT2_PATTERN.source, GPT2_PATTERN.flags);
      while (re.exec(text) !== null) pretokens++;
    }
    report(c, performance.now() - t0, pretokens);
  } else if (c.trainer === 'utf8-check') {
    const { Utf8Check } = await import('@cs336/bpe');
    const bytes = fs.readFileSync(c.input);
    const check = new Utf8Check();
    const t0 = performance.now();
    for (let at = 0; at < bytes.length; at += 1 << 20) check.push(bytes.subarray(at, at + (1 << 20)));
    const invalid = check.end().invalidBytes;
    report(c, performance.now() - t0, invalid); // vocabSizeOut: the invalid bytes found
  } else {
    const { Tokenizer, BPE, byteLevelPreTokenizer } = await import('tokenizers');
    const tokenizer = new Tokenizer(BPE.empty());
    tokenizer.setPreTokenizer(byteLevelPreTokenizer(false, true));
    tokenizer.addSpecialTokens(['<|endoftext|>']);
    const t0 = performance.now();
    tokenizer.train([c.input]); // default trainer: vocab 30000
    vocabSizeOut = tokenizer.getVocabSize();
    report(c, performance.now() - t0, vocabSizeOut);
  }
}

function report(c: BenchCase, ms: number, vocabSizeOut: number, pretokenizeSeconds?: number): void {
  const inputMB = fs.statSync(c.input).size / 1e6;
  const result: BenchResult = {
    ...c,
    input: path.relative(sharedRoot, c.input),
    inputMB: round(inputMB, 2),
    wallSeconds: round(ms / 1000, 3),
    mbPerSecond: round(inputMB / (ms / 1000), 1),
    ...(pretokenizeSeconds === undefined ? {} : { pretokenizeSeconds: round(pretokenizeSeconds, 3) }),
    peakRssMB: round(process.resourceUsage().maxRSS / 1024, 0),
    vocabSizeOut,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

function cases(quick: boolean): BenchCase[] {
  const corpusEn = path.join(fixtures, 'corpus.en');
  const big = path.join(data, 'gutenberg-children', quick ? 'valid.txt' : 'train.txt');
  const list: BenchCase[] = [{ name: 'course speed bar (corpus.en, vocab 500)', trainer: 'cs336', input: corpusEn, vocabSize: 500 }];
  const vocabs = quick ? [10_000] : [10_000, 32_000];
  const workerCounts = quick ? [2] : [1, 2];
  for (const vocabSize of vocabs) {
    for (const workers of workerCounts) list.push({ name: `vocab ${vocabSize}, ${workers} worker(s)`, trainer: 'cs336', input: big, vocabSize, workers });
  }
  list.push({ name: 'vocab 30000, 2 workers (vs HF)', trainer: 'cs336', input: big, vocabSize: 30_000, workers: 2 });
  list.push({ name: 'HF tokenizers 0.23.2, vocab 30000 (default trainer)', trainer: 'hf-tokenizers', input: big, vocabSize: 30_000 });
  const valid = path.join(data, 'gutenberg-children', 'valid.txt');
  list.push({ name: 'pre-tokenize only: forEachPretoken scanner (1 thread)', trainer: 'pretokenize-scanner', input: valid, vocabSize: 0 });
  list.push({ name: 'pre-tokenize only: GPT2_PATTERN RegExp (1 thread)', trainer: 'pretokenize-regexp', input: valid, vocabSize: 0 });
  for (const input of new Set([valid, big])) list.push({ name: `UTF-8 check only (Utf8Check, ${path.basename(input)}; vocabSizeOut = invalid bytes)`, trainer: 'utf8-check', input, vocabSize: 0 });
  return list;
}

function main(): void {
  const args = process.argv.slice(2);
  const caseIndex = args.indexOf('--case');
  if (caseIndex >= 0) {
    runCase(JSON.parse(args[caseIndex + 1]!) as BenchCase).catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
    return;
  }
  if (!fs.existsSync(path.join(here, '..', 'dist', 'index.js'))) {
    console.error('bpe-bench: packages/bpe/dist is missing; build first (pnpm --filter @cs336/bpe build)');
    process.exit(1);
  }
  const quick = args.includes('--quick');
  const repeatIndex = args.indexOf('--repeat');
  const repeat = repeatIndex >= 0 ? Number(args[repeatIndex + 1]) : 1;
  const results: (BenchResult & { run: number; loadAverage1m: number })[] = [];
  for (const c of cases(quick)) {
    if (!fs.existsSync(c.input)) {
      console.error(`skipping ${c.name}: ${c.input} not found (set CS336_FIXTURES / CS336_DATA)`);
      continue;
    }
    for (let run = 1; run <= repeat; run++) {
      console.error(`bench: ${c.name} (run ${run}/${repeat})`);
      // Same node flags as this process (tsx's loader), this file, one case.
      const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--case', JSON.stringify(c)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'], // the HF trainer draws its own progress bars on stderr
        maxBuffer: 1 << 20,
      });
      if (child.status !== 0) throw new Error(`bench case "${c.name}" failed with exit code ${child.status}`);
      // Other work on the machine skews timings: record the 1-minute load average with each run.
      results.push({ ...(JSON.parse(child.stdout.trim().split('\n').at(-1)!) as BenchResult), run, loadAverage1m: round(os.loadavg()[0]!, 2) });
    }
  }
  const cpus = os.cpus();
  console.log(JSON.stringify({
    machine: { cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', memoryGB: round(os.totalmem() / 2 ** 30, 1), node: process.version, loadAverage: os.loadavg().map((x) => round(x, 2)) },
    quick,
    results,
  }, null, 2));
}

main();
