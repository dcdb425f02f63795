import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DownloadError, downloadFile } from './download.js';
import { closedPort, sampleText, startFileServer, type FileServer } from '../test/file-server.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const FAST = { retryDelayMs: 5 };
let server: FileServer;
let dir: string;

beforeAll(async () => { server = await startFileServer(); });
afterAll(async () => { await server.close(); });
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'download-'));
  server.requests.length = 0;
  server.files.clear();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('downloadFile', () => {
  it('follows the Hugging Face redirect and verifies the SHA-256 from X-Linked-Etag', async () => {
    const body = sampleText(300_000, 1);
    server.files.set('a.txt', { body });
    const dest = path.join(dir, 'a.txt');
    const result = await downloadFile(`${server.base}/a.txt`, dest, FAST);
    expect(fs.readFileSync(dest).equals(body)).toBe(true);
    expect(result).toMatchObject({ bytes: body.length, sha256: sha256(body), verified: 'sha256' });
    expect(result.checkedAgainst).toMatch(/X-Linked-Etag of http:\/\/127\.0\.0\.1:\d+\/resolve\/a\.txt/);
    expect(fs.readdirSync(dir)).toEqual(['a.txt']);
  });

  it('resumes with Range + If-Range after the server drops the connection mid-way, ending byte-identical', async () => {
    const body = sampleText(2_000_000, 2);
    server.files.set('b.txt', { body, dropAfter: 700_000 });
    const dest = path.join(dir, 'b.txt');
    const lines: string[] = [];
    const result = await downloadFile(`${server.base}/b.txt`, dest, { ...FAST, log: (l) => lines.push(l) });
    expect(fs.readFileSync(dest).equals(body)).toBe(true);
    expect(result.sha256).toBe(sha256(body));
    const cdn = server.requests.filter((r) => r.path === '/cdn/b.txt');
    expect(cdn).toHaveLength(2);
    expect(cdn[0]!.range).toBeUndefined();
    // The second request starts exactly where the first stopped and names the version it extends.
    const from = Number(/^bytes=(\d+)-$/.exec(cdn[1]!.range ?? '')?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(700_000);
    expect(cdn[1]!.ifRange).toMatch(/^"v-[0-9a-f]{16}"$/);
    expect(lines.join('\n')).toMatch(/interrupted.*retrying/);
  });

  it('leaves a .part (never the final name) when it gives up, and a later call resumes it', async () => {
    const body = sampleText(1_000_000, 3);
    server.files.set('c.txt', { body, dropAfter: 400_000 });
    const dest = path.join(dir, 'c.txt');
    await expect(downloadFile(`${server.base}/c.txt`, dest, { ...FAST, maxAttempts: 1 })).rejects.toThrow(/interrupted.*bytes are kept in .*c\.txt\.part/);
    expect(fs.existsSync(dest)).toBe(false);
    const partial = fs.statSync(`${dest}.part`).size;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(body.length);

    server.requests.length = 0;
    await downloadFile(`${server.base}/c.txt`, dest, FAST);
    expect(fs.readFileSync(dest).equals(body)).toBe(true);
    expect(server.requests.find((r) => r.path === '/cdn/c.txt')?.range).toBe(`bytes=${partial}-`);
    expect(fs.readdirSync(dir)).toEqual(['c.txt']);
  });

  it('starts over when the file changed on the server since the partial download (If-Range)', async () => {
    const old = sampleText(500_000, 4);
    server.files.set('d.txt', { body: old, dropAfter: 200_000 });
    const dest = path.join(dir, 'd.txt');
    await expect(downloadFile(`${server.base}/d.txt`, dest, { ...FAST, maxAttempts: 1 })).rejects.toThrow(DownloadError);
    const fresh = sampleText(500_000, 5);
    server.files.set('d.txt', { body: fresh });
    await downloadFile(`${server.base}/d.txt`, dest, FAST);
    expect(fs.readFileSync(dest).equals(fresh)).toBe(true);
  });

  it('detects corrupted bytes (SHA-256 mismatch) and deletes them', async () => {
    const body = sampleText(200_000, 6);
    const corrupt = Buffer.from(body);
    corrupt[123_456] = corrupt[123_456]! ^ 0x20;
    server.files.set('e.txt', { body, actual: corrupt });
    const dest = path.join(dir, 'e.txt');
    await expect(downloadFile(`${server.base}/e.txt`, dest, FAST)).rejects.toThrow(/SHA-256 [0-9a-f]{64} does not match [0-9a-f]{64} \(X-Linked-Etag.*corrupt or truncated and has been deleted/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('detects a truncated file (fewer bytes than the published size) and does not keep it', async () => {
    const body = sampleText(200_000, 7);
    server.files.set('f.txt', { body, actual: body.subarray(0, 150_000) });
    const dest = path.join(dir, 'f.txt');
    await expect(downloadFile(`${server.base}/f.txt`, dest, FAST)).rejects.toThrow(/has only 150000 of the 200000 bytes/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('falls back to a size check when no hash is published, and still catches a short body', async () => {
    const body = sampleText(100_000, 8);
    server.files.set('g.txt', { body, linked: false });
    const result = await downloadFile(`${server.base}/g.txt`, path.join(dir, 'g.txt'), FAST);
    expect(result.verified).toBe('size');
    expect(result.sha256).toBe(sha256(body));
  });

  it('reports an unreachable server with the URL and the hint, after one retry, writing nothing', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/resolve/h.txt`;
    const error = await downloadFile(url, path.join(dir, 'h.txt'), { ...FAST, unreachableHint: 'use --from DIR|URL' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as DownloadError).url).toBe(url);
    expect((error as Error).message).toMatch(new RegExp(`cannot reach ${url.replace(/[.?]/g, '\\$&')}: ECONNREFUSED\\. use --from DIR\\|URL`));
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('fails at once, naming the status, on a 404', async () => {
    await expect(downloadFile(`${server.base}/missing.txt`, path.join(dir, 'x'), FAST)).rejects.toThrow(/missing\.txt answered HTTP 404/);
    expect(server.requests).toHaveLength(1);
  });
});
