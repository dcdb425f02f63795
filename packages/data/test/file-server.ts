/**
 * A local HTTP file server for the download tests (127.0.0.1 only), shaped like Hugging Face:
 * `/resolve/<name>` answers 302 to `/cdn/<name>` with the file's SHA-256 in X-Linked-Etag and its
 * size in X-Linked-Size; `/cdn/<name>` serves the bytes with a strong ETag and Range/If-Range.
 * Faults are set per file: drop the connection after N bytes (once), serve other bytes than the
 * published hash, or fewer bytes than the published size.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServedFile {
  body: Buffer;
  /** Publish X-Linked-Etag/X-Linked-Size on the redirect (default true). */
  linked?: boolean;
  /** Drop the connection after this many body bytes, on the next `dropTimes` GETs (default once). */
  dropAfter?: number;
  dropTimes?: number;
  /** Serve these bytes instead of `body` while still publishing body's hash and size. */
  actual?: Buffer;
  /** Send the body in 64 KiB pieces this many ms apart (a slow link, to interrupt a client mid-way). */
  chunkDelayMs?: number;
}

export interface RequestRecord {
  path: string;
  range: string | undefined;
  ifRange: string | undefined;
}

export interface FileServer {
  /** Base URL whose `/<name>` redirects like a Hugging Face resolve URL. */
  base: string;
  files: Map<string, ServedFile>;
  requests: RequestRecord[];
  close(): Promise<void>;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

export async function startFileServer(): Promise<FileServer> {
  const files = new Map<string, ServedFile>();
  const requests: RequestRecord[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push({ path: url.pathname, range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined });
    const [, kind, name = ''] = url.pathname.split('/');
    const file = files.get(decodeURIComponent(name));
    if (!file) { res.writeHead(404).end('not found'); return; }
    if (kind === 'resolve') {
      const headers: Record<string, string> = { location: `/cdn/${name}`, etag: '"pointer-etag"' };
      if (file.linked ?? true) Object.assign(headers, { 'x-linked-etag': `"${sha256(file.body)}"`, 'x-linked-size': String(file.body.length) });
      res.writeHead(302, headers).end();
      return;
    }
    if (kind !== 'cdn') { res.writeHead(404).end(); return; }
    const bytes = file.actual ?? file.body;
    const etag = `"v-${sha256(bytes).slice(0, 16)}"`; // strong, and not a SHA-256: the hash must come from the redirect
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    const honourRange = range !== null && (ifRange === undefined || ifRange === etag);
    if (honourRange) {
      start = Number(range[1]);
      if (start >= bytes.length) { res.writeHead(416, { 'content-range': `bytes */${bytes.length}` }).end(); return; }
    }
    const slice = bytes.subarray(start);
    const headers = { etag, 'content-length': String(slice.length), 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
    if (honourRange) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` });
    else res.writeHead(200, headers);
    if (file.dropAfter !== undefined && (file.dropTimes ?? 1) > 0) {
      file.dropTimes = (file.dropTimes ?? 1) - 1;
      res.write(slice.subarray(0, file.dropAfter), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    if (file.chunkDelayMs !== undefined) {
      let at = 0;
      const next = () => {
        if (res.destroyed) return;
        if (at >= slice.length) { res.end(); return; }
        res.write(slice.subarray(at, at + 65_536));
        at += 65_536;
        setTimeout(next, file.chunkDelayMs);
      };
      next();
      return;
    }
    res.end(slice);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}/resolve`,
    files,
    requests,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Deterministic text-like bytes (so a splice of two versions cannot pass by accident). */
export function sampleText(bytes: number, seed: number): Buffer {
  const words = ['once', 'upon', 'a', 'time', 'there', 'was', 'little', 'dog', 'who', 'liked', 'to', 'run', 'in', 'the', 'park', '.'];
  let state = seed >>> 0;
  const parts: string[] = [];
  let length = 0;
  while (length < bytes) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const word = words[state % words.length]!;
    parts.push(word);
    length += word.length + 1;
  }
  return Buffer.from(parts.join(' ')).subarray(0, bytes);
}
