/**
 * Data bench (JSON on stdout): SHA-256 content hashing (cold, then from the stat-keyed cache) and a
 * download through the local 127.0.0.1 test server (Range-capable, one dropped connection), both on a
 * generated file of BENCH_MB megabytes (default 512). Network speed is not measured: only what this
 * code adds on top of the bytes arriving.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { contentHash } from '../src/content-hash.js';
import { downloadFile } from '../src/download.js';
import { sampleText, startFileServer } from '../test/file-server.js';

const megabytes = Number(process.env.BENCH_MB ?? 512);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'data-bench-'));
const bytes = Buffer.concat(Array.from({ length: megabytes }, (_, i) => sampleText(1e6, i + 1)));
const file = path.join(dir, 'big.txt');
fs.writeFileSync(file, bytes);

const time = async (f: () => Promise<unknown>) => {
  const started = performance.now();
  await f();
  return (performance.now() - started) / 1000;
};
const cold = await time(() => contentHash(file));
const cached = await time(() => contentHash(file));
const server = await startFileServer();
server.files.set('big.txt', { body: bytes, dropAfter: Math.floor(bytes.length / 2) });
const download = await time(() => downloadFile(`${server.base}/big.txt`, path.join(dir, 'copy.txt'), { retryDelayMs: 0 }));
await server.close();
fs.rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({
  machine: `${os.cpus()[0]?.model} × ${os.cpus().length}, Node ${process.version}`,
  megabytes,
  hashColdMBps: Math.round(megabytes / cold),
  hashCachedMs: Number((cached * 1000).toFixed(2)),
  localDownloadMBps: Math.round(megabytes / download),
  downloadSeconds: Number(download.toFixed(2)),
}, null, 2));
