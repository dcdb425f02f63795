/**
 * A resumable, verified HTTP download into one file.
 *
 * Bytes go to `<dest>.part`, with `<dest>.part.json` recording the URL, the server's validator
 * (strong ETag, else Last-Modified) and the size and SHA-256 the server published. Only a complete,
 * verified file is renamed to `dest`, so a `.part` is never taken for a finished download.
 *
 * Resuming sends `Range: bytes=N-` with `If-Range: <validator>`: a server whose file changed answers
 * 200 with the whole new file, and we start over instead of splicing two versions together.
 *
 * Integrity: Hugging Face answers a `resolve` URL of an LFS file with a redirect whose
 * `X-Linked-Etag` is the file's SHA-256 and `X-Linked-Size` its size; redirects are followed by
 * hand so those headers are seen. Without them a strong ETag that is 64 hex digits is taken as the
 * SHA-256, and otherwise only the size (Content-Length / Content-Range) is checked.
 *
 * Built on Node's own `fetch` (undici inside Node 20): manual redirects, Range and streaming bodies
 * are all it needs, so the package has no HTTP dependency.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';

export type Verification = 'sha256' | 'size' | 'none';

export interface DownloadOptions {
  onProgress?: (bytesDone: number, bytesTotal: number | undefined) => void;
  log?: (line: string) => void;
  /** Failed attempts in a row (no new bytes) before giving up; default 5. */
  maxAttempts?: number;
  /** First retry delay, doubled each time; default 1000 ms. */
  retryDelayMs?: number;
  /** Abort an attempt that receives nothing for this long; default 60 s. */
  idleTimeoutMs?: number;
  /** Appended to "cannot reach" errors, e.g. how to fetch from a mirror instead. */
  unreachableHint?: string;
}

export interface DownloadResult {
  file: string;
  url: string;
  bytes: number;
  sha256: string;
  verified: Verification;
  /** Where the expected hash or size came from, for the manifest. */
  checkedAgainst?: string;
}

/** A download that failed for good; `url` is the address that failed. */
export class DownloadError extends Error {
  constructor(message: string, readonly url: string) {
    super(message);
    this.name = 'DownloadError';
  }
}

interface PartInfo {
  url: string;
  validator?: string;
  sha256?: string;
  size?: number;
  checkedAgainst?: string;
}

interface Expected {
  sha256?: string;
  size?: number;
  checkedAgainst?: string;
}

/** `"abc"`, `W/"abc"` → `abc` (weak tags are returned as undefined where a strong one is needed). */
function unquote(tag: string | null): string | undefined {
  return tag ? tag.replace(/^W\//, '').replace(/^"|"$/g, '') : undefined;
}

function sha256Tag(tag: string | null): string | undefined {
  const value = unquote(tag)?.toLowerCase();
  return value && /^[0-9a-f]{64}$/.test(value) ? value : undefined;
}

function sizeHeader(value: string | null): number | undefined {
  return value !== null && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** Errors worth a retry: the network, a server hiccup, a connection dropped mid-body. */
class RetryableError extends Error {}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

async function request(url: string, from: number, validator: string | undefined, signal: AbortSignal): Promise<{ response: Response; expected: Expected }> {
  let current = url;
  const expected: Expected = {};
  for (let hop = 0; hop < 10; hop++) {
    // identity: a transparently gunzipped body would not match the sizes, ranges or hashes.
    const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'cs336-ts' };
    if (from > 0) {
      headers.range = `bytes=${from}-`;
      if (validator) headers['if-range'] = validator;
    }
    let response: Response;
    try {
      response = await fetch(current, { headers, redirect: 'manual', signal });
    } catch (error) {
      throw new RetryableError(`cannot reach ${current}: ${describeFetchError(error)}`);
    }
    // The first response that publishes the LFS hash wins (Hugging Face sends it on the redirect).
    const linked = sha256Tag(response.headers.get('x-linked-etag'));
    if (linked && !expected.sha256) Object.assign(expected, { sha256: linked, checkedAgainst: `X-Linked-Etag of ${current}` });
    const linkedSize = sizeHeader(response.headers.get('x-linked-size'));
    if (linkedSize !== undefined && expected.size === undefined) expected.size = linkedSize;
    if (REDIRECTS.has(response.status)) {
      const location = response.headers.get('location');
      await response.body?.cancel();
      if (!location) throw new DownloadError(`${current} answered ${response.status} without a Location header`, url);
      current = new URL(location, current).href;
      continue;
    }
    if (!expected.sha256) {
      const etag = response.headers.get('etag');
      const strong = etag && !etag.startsWith('W/') ? sha256Tag(etag) : undefined;
      if (strong) Object.assign(expected, { sha256: strong, checkedAgainst: `ETag of ${current}` });
    }
    return { response, expected };
  }
  throw new DownloadError(`${url}: more than 10 redirects`, url);
}

function readPartInfo(file: string, url: string): PartInfo | undefined {
  try {
    const info = JSON.parse(fs.readFileSync(file, 'utf8')) as PartInfo;
    return info.url === url ? info : undefined;
  } catch {
    return undefined;
  }
}

async function hashFile(file: string, hash: Hash): Promise<number> {
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 22 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return bytes;
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Downloads `url` into `dest`, resuming a `<dest>.part` left by an earlier attempt or process.
 * Resolves once `dest` holds the complete, verified file; a corrupt or short result is deleted and
 * reported as a DownloadError.
 */
export async function downloadFile(url: string, dest: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const part = `${dest}.part`;
  const infoFile = `${part}.json`;
  const maxAttempts = options.maxAttempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  const log = options.log ?? (() => {});

  let info = readPartInfo(infoFile, url);
  if (!info) fs.rmSync(part, { force: true }); // a part from another URL (or without its record) is not ours to extend
  else if (sizeOf(part) > 0) log(`resuming ${dest} from byte ${sizeOf(part)}`);
  // The hash covers part[0, hashed); it is rebuilt from disk when the part grew outside this call.
  let hash = createHash('sha256');
  let hashed = 0;
  let failures = 0;
  let everAnswered = false;
  let restarts = 0;

  const restart = () => {
    fs.rmSync(part, { force: true });
    hash = createHash('sha256');
    hashed = 0;
  };

  for (;;) {
    const have = sizeOf(part);
    const controller = new AbortController();
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => controller.abort(new RetryableError(`no data from ${url} for ${idleTimeoutMs / 1000} s`)), idleTimeoutMs);
    };
    try {
      arm();
      const { response, expected } = await request(url, have, info?.validator, controller.signal);
      everAnswered = true;
      if (response.status === 416 && have > 0) {
        // Nothing past our end: complete if the size we recorded says so, otherwise start over.
        await response.body?.cancel();
        if (info?.size === have) break;
        if (info?.size !== undefined && have < info.size) {
          restart();
          fs.rmSync(infoFile, { force: true });
          throw new DownloadError(`${url}: the server has only ${have} of the ${info.size} bytes it announced; the file there is truncated`, url);
        }
        if (++restarts > 2) throw new DownloadError(`${url}: the server refuses every range request; cannot resume`, url);
        restart();
        continue;
      }
      if (response.status >= 500 || response.status === 429) {
        await response.body?.cancel();
        throw new RetryableError(`${url} answered HTTP ${response.status}`);
      }
      if (response.status !== 200 && response.status !== 206) {
        await response.body?.cancel();
        throw new DownloadError(`${url} answered HTTP ${response.status} ${response.statusText}; check the dataset name and URL`, url);
      }
      let append = false;
      if (response.status === 206) {
        const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
        if (!range || Number(range[1]) !== have) {
          await response.body?.cancel();
          log(`${url}: the server sent a different range than asked; starting over`);
          restart();
          continue;
        }
        if (expected.size === undefined && range[2] !== '*') expected.size = Number(range[2]);
        append = true;
      } else {
        if (have > 0) log(`${url} changed since the partial download (or ignores ranges); starting over`);
        restart();
        const length = sizeHeader(response.headers.get('content-length'));
        if (expected.size === undefined && length !== undefined) expected.size = length;
      }
      if (info?.sha256 && expected.sha256 && info.sha256 !== expected.sha256 && append) {
        // Same validator yet another published hash: trust nothing already on disk.
        await response.body?.cancel();
        restart();
        info = undefined;
        continue;
      }
      const etag = response.headers.get('etag');
      const validator = etag && !etag.startsWith('W/') ? etag : response.headers.get('last-modified') ?? undefined;
      info = { url, ...(validator ? { validator } : {}), ...expected };
      fs.writeFileSync(infoFile, JSON.stringify(info) + '\n');
      if (append && hashed !== have) {
        hash = createHash('sha256');
        hashed = await hashFile(part, hash);
      }

      const handle = await fsp.open(part, append ? 'a' : 'w');
      try {
        let done = append ? have : 0;
        options.onProgress?.(done, info.size);
        if (!response.body) throw new RetryableError(`${url}: empty response body`);
        for await (const chunk of response.body) {
          arm();
          const bytes = chunk as Uint8Array;
          await handle.write(bytes);
          hash.update(bytes);
          done += bytes.length;
          hashed = done;
          options.onProgress?.(done, info.size);
        }
      } catch (error) {
        if (error instanceof DownloadError || error instanceof RetryableError) throw error;
        const reason = controller.signal.reason instanceof RetryableError ? controller.signal.reason.message : describeFetchError(error);
        throw new RetryableError(`download of ${url} interrupted: ${reason}`);
      } finally {
        await handle.close();
      }
      const now = sizeOf(part);
      if (info.size !== undefined && now < info.size) throw new RetryableError(`${url}: connection closed at byte ${now} of ${info.size}`);
      break;
    } catch (error) {
      if (!(error instanceof RetryableError)) throw error;
      const progressed = sizeOf(part) > have;
      failures = progressed ? 1 : failures + 1;
      // Never answered at all (offline, DNS, refused): two tries are enough to say so.
      const limit = everAnswered ? maxAttempts : Math.min(2, maxAttempts);
      if (failures >= limit) {
        const kept = sizeOf(part) > 0 ? `; ${sizeOf(part)} bytes are kept in ${part} and the next run resumes from there` : '';
        throw new DownloadError(`${error.message}${kept}${everAnswered ? '' : options.unreachableHint ? `. ${options.unreachableHint}` : ''}`, url);
      }
      const delay = retryDelayMs * 2 ** (failures - 1);
      log(`${error.message}; retrying in ${(delay / 1000).toFixed(1)} s (attempt ${failures + 1} of ${limit})`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    } finally {
      clearTimeout(idle);
    }
  }

  const bytes = sizeOf(part);
  if (hashed !== bytes) {
    hash = createHash('sha256');
    hashed = await hashFile(part, hash);
  }
  const sha256 = hash.digest('hex');
  const fail = (message: string): never => {
    fs.rmSync(part, { force: true });
    fs.rmSync(infoFile, { force: true });
    throw new DownloadError(`${message}; the download was corrupt or truncated and has been deleted — run the command again`, url);
  };
  if (info?.size !== undefined && bytes !== info.size) fail(`${url}: got ${bytes} bytes, expected ${info.size}`);
  if (info?.sha256 && sha256 !== info.sha256) fail(`${url}: SHA-256 ${sha256} does not match ${info.sha256} (${info.checkedAgainst})`);
  fs.renameSync(part, dest);
  fs.rmSync(infoFile, { force: true });
  const verified: Verification = info?.sha256 ? 'sha256' : info?.size !== undefined ? 'size' : 'none';
  const checkedAgainst = verified === 'sha256' ? info?.checkedAgainst : verified === 'size' ? 'the size the server announced' : undefined;
  return { file: dest, url, bytes, sha256, verified, ...(checkedAgainst ? { checkedAgainst } : {}) };
}
