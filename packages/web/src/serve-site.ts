/**
 * A static file server for a look at an exported site: node:http, GET/HEAD only, files under the root
 * only, on 127.0.0.1. It sends the cross-origin isolation headers (COOP/COEP), which let
 * onnxruntime-web use threads (SharedArrayBuffer); on a host without them the page runs on one thread.
 * About forty lines, so no dependency: a library would add options this never needs.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const MIME_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm', // needed for WebAssembly.instantiateStreaming
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

export interface ServeSiteOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
}

export interface SiteServer {
  url: string;
  close(): Promise<void>;
}

export async function serveSite(root: string, options: ServeSiteOptions = {}): Promise<SiteServer> {
  const base = path.resolve(root);
  if (!fs.existsSync(path.join(base, 'index.html'))) throw new Error(`serveSite: ${base} has no index.html; export a site there first`);
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`serveSite: port must be an integer in [0, 65535], got ${port}`);
  const server = http.createServer((request, response) => {
    const send = (status: number, text: string) => response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(405, 'only GET and HEAD');
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    } catch {
      return send(400, 'bad URL');
    }
    const file = path.join(base, pathname.endsWith('/') ? `${pathname}index.html` : pathname);
    if (file !== base && !file.startsWith(base + path.sep)) return send(403, 'outside the site');
    fs.stat(file, (error, stat) => {
      if (error || !stat.isFile()) return send(404, `not found: ${pathname}`);
      response.writeHead(200, {
        'content-type': MIME_TYPES[path.extname(file)] ?? 'application/octet-stream',
        'content-length': stat.size,
        'cache-control': 'no-cache',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
      });
      if (request.method === 'HEAD') return response.end();
      fs.createReadStream(file).pipe(response);
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${host}:${actualPort}/`,
    close: () => new Promise((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections(); // a browser keeps idle connections open
    }),
  };
}
