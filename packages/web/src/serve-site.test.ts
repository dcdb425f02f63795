import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { serveSite, type SiteServer } from './serve-site.js';

let dir: string;
let server: SiteServer;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serve-site-'));
  fs.mkdirSync(path.join(dir, 'site/ort'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'site/index.html'), '<p>hi</p>');
  fs.writeFileSync(path.join(dir, 'site/ort/x.wasm'), Uint8Array.of(0, 97, 115, 109));
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'outside');
  server = await serveSite(path.join(dir, 'site'));
});
afterAll(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function get(url: string, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http.request(url, { method }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => { body += chunk.toString('latin1'); });
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body }));
    }).on('error', reject).end();
  });
}

describe('serveSite', () => {
  it('serves files on 127.0.0.1 with their types and the cross-origin isolation headers', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const index = await get(server.url);
    expect(index).toMatchObject({ status: 200, body: '<p>hi</p>' });
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(index.headers['cross-origin-embedder-policy']).toBe('require-corp');
    const wasm = await get(`${server.url}ort/x.wasm`);
    expect(wasm.headers['content-type']).toBe('application/wasm');
    expect(wasm.body).toBe('\0asm');
  });

  it('answers 404 for a missing file, 403 outside the root, 405 for other methods', async () => {
    expect((await get(`${server.url}nope.js`)).status).toBe(404);
    expect((await get(`${server.url}..%2fsecret.txt`)).status).toBe(403);
    // Encoded dot segments are resolved by URL parsing, at the root: /secret.txt inside the site, absent.
    expect((await get(`${server.url}%2e%2e/secret.txt`)).status).toBe(404);
    expect((await get(server.url, 'POST')).status).toBe(405);
  });

  it('refuses a folder without index.html and a bad port', async () => {
    await expect(serveSite(dir)).rejects.toThrow(/has no index.html/);
    await expect(serveSite(path.join(dir, 'site'), { port: 70000 })).rejects.toThrow(/port must be an integer/);
  });
});
