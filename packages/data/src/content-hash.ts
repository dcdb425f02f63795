/**
 * Content hashes of files: the SHA-256 of the bytes, which is what "same input" means for a cached
 * stage (mtimes change on copy and stay put on some edits; bytes do not lie).
 *
 * Hashing 12 GB takes about a minute, so each result is cached in `.cs336-hashes.json` beside the
 * file, keyed by (name, size, mtime, inode): a file that was not rewritten is not read again. A
 * download seeds the cache with the hash it computed while writing, so fetched data is never
 * hashed twice. The cache is advisory: when it cannot be written (a read-only folder) the hash is
 * still returned, only recomputed next time.
 *
 * Beside the hash an entry may hold `facts`: numbers a reader derived from the same bytes (the train
 * package stores a token file's largest id), valid exactly as long as the hash is. A caller that
 * needs such a fact computes it in the hashing pass (`onChunk`), so a file is read once, not twice.
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
  facts?: Record<string, number>;
}

/** Numbers derived from a file's bytes, cached with its hash. */
export type FileFacts = Record<string, number>;

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

/**
 * Stores `sha256` as the hash of `file` as it is on disk now (call right after writing it), with
 * optional facts; facts already cached for the same bytes are kept.
 */
export function recordContentHash(file: string, sha256: string, facts?: FileFacts): void {
  const stat = fs.statSync(file);
  const cache = readCache(file);
  const previous = cache[path.basename(file)];
  const kept = matches(previous, stat) && previous.sha256 === sha256 ? previous.facts : undefined;
  const merged = kept || facts ? { ...kept, ...facts } : undefined;
  cache[path.basename(file)] = { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino, sha256, ...(merged ? { facts: merged } : {}) };
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

/** Facts cached for `file` with its hash, when its size, mtime and inode still match. */
export function cachedFileFacts(file: string): FileFacts | undefined {
  const stat = fs.statSync(file);
  const entry = readCache(file)[path.basename(file)];
  return matches(entry, stat) ? entry.facts : undefined;
}

/** Adds facts to the cached entry of `file` when it still describes the file on disk (else does nothing). */
export function recordFileFacts(file: string, facts: FileFacts): void {
  const sha256 = cachedContentHash(file);
  if (sha256) recordContentHash(file, sha256, facts);
}

export interface ContentHashOptions {
  /** Called as bytes are hashed (only when the cache misses). */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** Sees every chunk of the file in order while it is hashed (only when the cache misses). */
  onChunk?: (chunk: Buffer) => void;
  /** Facts to cache with the hash, asked for after the last chunk (only when the cache misses). */
  facts?: () => FileFacts;
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
    options.onChunk?.(chunk as Buffer);
    done += (chunk as Buffer).length;
    options.onProgress?.(done, stat.size);
  }
  const sha256 = hash.digest('hex');
  // Store it only if the file did not change while we read it.
  const after = fs.statSync(file);
  if (after.size === stat.size && after.mtimeMs === stat.mtimeMs && after.ino === stat.ino) recordContentHash(file, sha256, options.facts?.());
  return sha256;
}
