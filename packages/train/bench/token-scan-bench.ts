/**
 * Speed of TokenFile.scanIds, the full check that every id is below the vocabulary, which train() runs
 * on both token files before step 1. Writes a 128 MB token file per dtype in the temp folder (page cache
 * warm after the first pass), scans it `BENCH_RUNS` times (default 3) and prints MB/s as JSON.
 * Run: pnpm --filter @cs336/train exec tsx bench/token-scan-bench.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Random, TokenFile } from '@cs336/train';

const runs = Number(process.env.BENCH_RUNS ?? 3);
const megabytes = 128;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'token-scan-bench-'));
try {
  const results = [];
  for (const dtype of ['uint16', 'uint32'] as const) {
    const count = (megabytes * 1e6) / (dtype === 'uint16' ? 2 : 4);
    const random = Random.seeded(1);
    const ids = dtype === 'uint16' ? new Uint16Array(count) : new Uint32Array(count);
    for (let i = 0; i < count; i++) ids[i] = random.nextInt(50_257);
    const file = path.join(dir, `${dtype}.bin`);
    fs.writeFileSync(file, ids);
    const tokens = TokenFile.open(file, { dtype });
    const seconds: number[] = [];
    for (let r = 0; r < runs; r++) {
      const start = performance.now();
      tokens.scanIds(50_257);
      seconds.push((performance.now() - start) / 1000);
    }
    tokens.close();
    const best = Math.min(...seconds);
    results.push({ dtype, megabytes, bestSeconds: Number(best.toFixed(3)), megabytesPerSecond: Math.round(megabytes / best) });
  }
  console.log(JSON.stringify({ machine: `${os.cpus()[0]?.model} ×${os.availableParallelism()}, Node ${process.version}`, results }, null, 2));
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
