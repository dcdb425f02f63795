// encodeFile at OpenWebText scale: `node bench/encode-file-scale.mjs CORPUS MODEL_DIR [WORKERS...]`
// encodes CORPUS (e.g. the largest synthetic corpus of @cs336/bpe's bench:scale, kept with --keep)
// with the tokenizer in MODEL_DIR (vocab.json + merges.txt, e.g. that bench's model-<size>GB) once
// per worker count (default 2), each run in a fresh child process so peak RSS is its own, and prints
// JSON: MB/s, tokens, CPU seconds and peak RSS (process.resourceUsage().maxRSS, all threads).
// The output is written beside the corpus and deleted.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [input, modelDir, ...rest] = process.argv.slice(2);
const round = (x, digits) => Math.round(x * 10 ** digits) / 10 ** digits;
if (!input || !modelDir) {
  console.error('usage: node bench/encode-file-scale.mjs CORPUS MODEL_DIR [WORKERS...]');
  process.exit(2);
}

if (rest[0] === '--child') {
  const { Tokenizer } = await import('../dist/index.js');
  const workers = Number(rest[1]);
  const tokenizer = await Tokenizer.fromFiles(path.join(modelDir, 'vocab.json'), path.join(modelDir, 'merges.txt'), ['<|endoftext|>']);
  const output = `${input}.ids-${workers}.bin`;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let last = 0;
  const sidecar = await tokenizer.encodeFile(input, output, {
    workers,
    onProgress: (p) => {
      const now = performance.now();
      if (now - last < 10_000) return;
      last = now;
      console.error(`  ${workers} worker(s): ${round(p.bytesDone / 1e9, 2)}/${round(p.bytesTotal / 1e9, 2)} GB, RSS ${Math.round(process.memoryUsage.rss() / 2 ** 20)} MB`);
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const bytes = fs.statSync(input).size;
  fs.rmSync(output, { force: true });
  fs.rmSync(`${output}.json`, { force: true });
  console.log(JSON.stringify({
    workers, inputGB: round(bytes / 1e9, 2), tokens: sidecar.count, wallSeconds: round(seconds, 1), mbPerSecond: round(bytes / 1e6 / seconds, 1),
    cpuSeconds: round((cpu.user + cpu.system) / 1e6, 1), peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024), loadAverage1m: round(os.loadavg()[0], 2),
  }));
} else {
  const results = [];
  for (const workers of rest.length > 0 ? rest.map(Number) : [2]) {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), input, modelDir, '--child', String(workers)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (child.status !== 0) throw new Error(`encodeFile with ${workers} worker(s) failed (exit ${child.status ?? child.signal})`);
    results.push(JSON.parse(child.stdout.trim().split('\n').at(-1)));
  }
  const cpus = os.cpus();
  console.log(JSON.stringify({ machine: { cpus: cpus.length, cpuModel: cpus[0]?.model, node: process.version }, input, modelDir, results }, null, 2));
}
