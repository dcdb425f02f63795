import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DownloadError } from './download.js';
import { LockedError } from './directory-lock.js';
import { DATASET_MANIFEST, FETCH_LOCK_FILE, fetchDataset, isDatasetFetched, readDatasetManifest } from './fetch-dataset.js';
import { closedPort, sampleText, startFileServer, type FileServer } from '../test/file-server.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const FAST = { retryDelayMs: 5 };
let server: FileServer;
let dir: string;

beforeAll(async () => { server = await startFileServer(); });
afterAll(async () => { await server.close(); });
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fetch-dataset-'));
  server.requests.length = 0;
  server.files.clear();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('fetchDataset', () => {
  it('fetches tinystories from a mirror into train.txt/valid.txt with a manifest, and a second call fetches nothing', async () => {
    const train = sampleText(400_000, 11);
    const valid = sampleText(40_000, 12);
    server.files.set('TinyStoriesV2-GPT4-train.txt', { body: train, dropAfter: 100_000 });
    server.files.set('TinyStoriesV2-GPT4-valid.txt', { body: valid });
    const out = path.join(dir, 'tinystories');
    const seen = new Set<string>();
    const result = await fetchDataset('tinystories', { dir: out, from: server.base, download: FAST, onProgress: (p) => seen.add(`${p.split}:${p.phase}`) });
    expect(fs.readFileSync(result.train).equals(train)).toBe(true);
    expect(fs.readFileSync(result.valid).equals(valid)).toBe(true);
    expect([...seen].sort()).toEqual(['train:download', 'valid:download']);
    const manifest = readDatasetManifest(out)!;
    expect(manifest.files.train).toMatchObject({ file: 'train.txt', bytes: train.length, sha256: sha256(train), source: { name: 'TinyStoriesV2-GPT4-train.txt', verified: 'sha256', gzip: false } });
    expect(manifest.files.train!.source.location).toBe(`${server.base}/TinyStoriesV2-GPT4-train.txt`);
    expect(await isDatasetFetched(out, 'tinystories')).toBe(true);

    server.requests.length = 0;
    const again = await fetchDataset('tinystories', { dir: out, from: server.base, download: FAST });
    expect(again.reused).toEqual(['train', 'valid']);
    expect(server.requests).toEqual([]);

    // A damaged file no longer matches its manifest entry: only that split is fetched again.
    fs.appendFileSync(result.valid, 'x');
    expect(await isDatasetFetched(out, 'tinystories')).toBe(false);
    const repaired = await fetchDataset('tinystories', { dir: out, from: server.base, download: FAST });
    expect(repaired.reused).toEqual(['train']);
    expect(fs.readFileSync(result.valid).equals(valid)).toBe(true);
  });

  it('refuses a second fetch into a folder another fetch is writing, and leaves the first one intact', async () => {
    const train = sampleText(600_000, 21);
    server.files.set('TinyStoriesV2-GPT4-train.txt', { body: train, chunkDelayMs: 5 }); // ~50 ms: still running below
    server.files.set('TinyStoriesV2-GPT4-valid.txt', { body: sampleText(10_000, 22) });
    const first = fetchDataset('tinystories', { dir, from: server.base, download: FAST });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const second = await fetchDataset('tinystories', { dir, from: server.base, download: FAST }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(LockedError);
    expect((second as Error).message).toMatch(new RegExp(`dataset folder ${dir} is in use`));
    const result = await first;
    expect(fs.readFileSync(result.train).equals(train)).toBe(true);
    expect(fs.existsSync(path.join(dir, FETCH_LOCK_FILE))).toBe(false);
    expect((await fetchDataset('tinystories', { dir, from: server.base, download: FAST })).reused).toEqual(['train', 'valid']);
  });

  it('decompresses the OpenWebText .gz files as a stream, verifying the compressed bytes, and drops the .gz', async () => {
    const train = sampleText(300_000, 13);
    const valid = sampleText(30_000, 14);
    server.files.set('owt_train.txt.gz', { body: gzipSync(train) });
    server.files.set('owt_valid.txt.gz', { body: gzipSync(valid) });
    const result = await fetchDataset('owt', { dir, from: server.base, download: FAST });
    expect(fs.readFileSync(result.train, 'utf8')).toBe(train.toString());
    expect(fs.readFileSync(result.valid, 'utf8')).toBe(valid.toString());
    const entry = readDatasetManifest(dir)!.files.train!;
    expect(entry).toMatchObject({ sha256: sha256(train), bytes: train.length, source: { gzip: true, verified: 'sha256', sha256: sha256(gzipSync(train)) } });
    expect(fs.readdirSync(dir).filter((f) => !f.startsWith('.')).sort()).toEqual([DATASET_MANIFEST, 'train.txt', 'valid.txt']);
  });

  it('works from a local folder holding the upstream names (plain and gzip)', async () => {
    const source = path.join(dir, 'mirror');
    fs.mkdirSync(source);
    const train = sampleText(50_000, 15);
    fs.writeFileSync(path.join(source, 'owt_train.txt.gz'), gzipSync(train));
    fs.writeFileSync(path.join(source, 'owt_valid.txt.gz'), gzipSync(Buffer.from('valid text')));
    const result = await fetchDataset('owt', { dir: path.join(dir, 'owt'), from: source });
    expect(fs.readFileSync(result.train).equals(train)).toBe(true);
    expect(fs.readFileSync(result.valid, 'utf8')).toBe('valid text');
    expect(readDatasetManifest(path.join(dir, 'owt'))!.files.valid!.source).toMatchObject({ location: path.join(source, 'owt_valid.txt.gz'), verified: 'none' });

    fs.rmSync(path.join(source, 'owt_valid.txt.gz'));
    await expect(fetchDataset('owt', { dir: path.join(dir, 'owt2'), from: source })).rejects.toThrow(/owt_valid\.txt\.gz is missing/);
    expect(fs.existsSync(path.join(dir, 'owt2'))).toBe(false);
  });

  it('a corrupt .gz is not used: nothing lands under the final names', async () => {
    const source = path.join(dir, 'mirror');
    fs.mkdirSync(source);
    const gz = gzipSync(sampleText(50_000, 16));
    fs.writeFileSync(path.join(source, 'owt_train.txt.gz'), gz.subarray(0, gz.length - 100));
    fs.writeFileSync(path.join(source, 'owt_valid.txt.gz'), gzipSync(Buffer.from('v')));
    const out = path.join(dir, 'owt');
    await expect(fetchDataset('owt', { dir: out, from: source })).rejects.toThrow(/decompressing .*owt_train\.txt\.gz failed/);
    expect(fs.readdirSync(out)).toEqual([]);
  });

  it('offline: names the URL and the --from alternative, and writes no data file', async () => {
    const port = await closedPort();
    const out = path.join(dir, 'ts');
    const error = await fetchDataset('tinystories', { dir: out, from: `http://127.0.0.1:${port}/base/`, download: FAST }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toBe(`cannot reach http://127.0.0.1:${port}/base/TinyStoriesV2-GPT4-train.txt: ECONNREFUSED. Without that network, fetch from a local copy or a mirror holding TinyStoriesV2-GPT4-train.txt: cs336 data fetch tinystories --from DIR|URL`);
    expect(fs.readdirSync(out)).toEqual([]);
  });
});
