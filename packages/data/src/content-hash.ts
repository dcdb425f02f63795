/**
 * Content hashes of files: the SHA-256 of the bytes, which is what "same input" means for a cached
 * stage (mtimes change on copy and stay put on some edits; bytes do not lie).
 *
 * Hashing 12 GB takes about a minute, so each result is cached in `.cs336-hashes.json` beside the
 * file, keyed by (name, size, mtime, inode): a file that was not rewritten is not read again. A
 * download seeds the cache with the hash it computed while writing, so fetched data is never
 * hashed twice. The cache is advisory: when it cannot be written (a read-only folder) the hash is
 * still returned, only recomputed next time.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const HASH_CACHE_FILE = '.cs336-hashes.json';

interface CacheEntry {
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}

type Cache = Record<string, CacheEntry>;

function cacheFile(file: string): string {
  return path.join(path.dirname(path.resolve(file)), HASH_CACHE_FILE);
}

function readCache(file: string): Cache {
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(cacheFile(file), 'utf8'));
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Cache) : {};
  } catch {
    return {};
  }
}

function matches(entry: CacheEntry | undefined, stat: fs.Stats): entry is CacheEntry {
  return entry !== undefined && entry.size === stat.size && entry.mtimeMs === stat.mtimeMs && entry.ino === stat.ino && /^[0-9a-f]{64}$/.test(entry.sha256);
}

/** Stores `sha256` as the hash of `file` as it is on disk now (call right after writing it). */
export function recordContentHash(file: string, sha256: string): void {
  const stat = fs.statSync(file);
  const cache = readCache(file);
  cache[path.basename(file)] = { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino, sha256 };
  const target = cacheFile(file);
  const temp = `${target}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(temp, JSON.stringify(cache, null, 1) + '\n');
    fs.renameSync(temp, target); // concurrent writers may drop each other's entry: that only costs a rehash
  } catch {
    fs.rmSync(temp, { force: true });
  }
}

/** The cached hash of `file` when its size, mtime and inode still match; otherwise undefined. */
export function cachedContentHash(file: string): string | undefined {
  const stat = fs.statSync(file);
  const entry = readCache(file)[path.basename(file)];
  return matches(entry, stat) ? entry.sha256 : undefined;
}

export interface ContentHashOptions {
  /** Called as bytes are hashed (only when the cache misses). */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

/** SHA-256 (hex) of the file's bytes, from the cache when the file is unchanged since it was hashed. */
export async function contentHash(file: string, options: ContentHashOptions = {}): Promise<string> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    throw new Error(`cannot hash ${file}: ${(error as Error).message}`);
  }
  if (!stat.isFile()) throw new Error(`cannot hash ${file}: not a file`);
  const cached = readCache(file)[path.basename(file)];
  if (matches(cached, stat)) return cached.sha256;
  const hash = createHash('sha256');
  let done = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 22 })) {
    hash.update(chunk as Buffer);
    done += (chunk as Buffer).length;
    options.onProgress?.(done, stat.size);
  }
  const sha256 = hash.digest('hex');
  // Store it only if the file did not change while we read it.
  const after = fs.statSync(file);
  if (after.size === stat.size && after.mtimeMs === stat.mtimeMs && after.ino === stat.ino) recordContentHash(file, sha256);
  return sha256;
}
