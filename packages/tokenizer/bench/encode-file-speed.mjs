// Child process for the encodeFile speed-up: `node encode-file-speed.mjs INPUT DIR ROUNDS` times
// encodeFile on INPUT with 1 and 2 workers, alternating 1, 2, 1, 2, … and prints JSON. A round is a
// 1-worker run followed at once by a 2-worker run; on a shared VM the speed of both drifts by ±10%
// over tens of seconds as outside load comes and goes, so the speed-up is taken within each round
// (the two runs see about the same load) and the median over rounds is reported, beside the ratio
// of the two medians. Every run starts new workers, as the CLI does, and writes
// a new output file in DIR: replacing an existing one would also time the file system freeing it.
// The outputs must be identical (compared by SHA-256).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '../dist/index.js';

const fixtures = process.env.CS336_FIXTURES ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/fixtures/cs336-2024');
const [input, dir, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg ?? 2);
const tokenizer = await Tokenizer.fromFiles(path.join(fixtures, 'gpt2_vocab.json'), path.join(fixtures, 'gpt2_merges.txt'), ['<|endoftext|>']);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
/** SHA-256 of a file, read in pieces: the outputs of a multi-GB input are too big to compare whole. */
function fileHash(file) {
  const hash = createHash('sha256');
  const piece = Buffer.allocUnsafe(16 << 20);
  const fd = fs.openSync(file, 'r');
  for (let n; (n = fs.readSync(fd, piece, 0, piece.length, null)) > 0; ) hash.update(piece.subarray(0, n));
  fs.closeSync(fd);
  return hash.digest('hex');
}
const bytes = fs.statSync(input).size;
const rates = { 1: [], 2: [] };
const coresUsed = { 1: [], 2: [] };
let reference;
for (let round = 0; round < rounds; round++) {
  for (const workers of [1, 2]) {
    const output = path.join(dir, `speed-${workers}-${round}.bin`);
    const cpuBefore = process.cpuUsage(); // every thread of this process, workers included
    const start = performance.now();
    await tokenizer.encodeFile(input, output, { workers });
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    rates[workers].push(bytes / 1e6 / seconds);
    coresUsed[workers].push((cpu.user + cpu.system) / 1e6 / seconds);
    const written = fileHash(output);
    if (reference && reference !== written) throw new Error(`encodeFile with ${workers} workers wrote different ids than with 1`);
    reference ??= written;
    fs.rmSync(output);
    fs.rmSync(`${output}.json`);
  }
}
const one = median(rates[1]);
const two = median(rates[2]);
const roundRatios = rates[2].map((rate, i) => rate / rates[1][i]);
const round2 = (x) => Number(x.toFixed(2));
console.log(JSON.stringify({
  'input MB': Number((bytes / 1e6).toFixed(1)),
  runs: rounds,
  'workers=1 MB/s': round2(one),
  'workers=2 MB/s': round2(two),
  'speedup 2 vs 1 (median of rounds)': round2(median(roundRatios)),
  'speedup 2 vs 1, each round': roundRatios.map(round2),
  'speedup 2 vs 1 (ratio of medians)': round2(two / one),
  'workers=1 MB/s, each run': rates[1].map(round2),
  'workers=2 MB/s, each run': rates[2].map(round2),
  'workers=1 cores used (cpu s / wall s)': round2(median(coresUsed[1])),
  'workers=2 cores used (cpu s / wall s)': round2(median(coresUsed[2])),
}));
