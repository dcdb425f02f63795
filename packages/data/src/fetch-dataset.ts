/**
 * fetchDataset: a dataset's train and valid text into one folder, as train.txt and valid.txt,
 * with `dataset.json` (the manifest) recording for each file its size, SHA-256, where it came from
 * and how that source was checked.
 *
 * Sources: the handout's Hugging Face URLs; a mirror base URL holding the same file names
 * (`from`, or $CS336_DATASET_MIRROR); or a local folder holding them. `.gz` sources are downloaded
 * whole and verified first (the published hash is of the compressed file), then decompressed as a
 * stream into a temporary file that is renamed into place; the `.gz` is deleted afterwards.
 * A split whose manifest entry matches the file on disk is not fetched again.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { cachedContentHash, contentHash, recordContentHash } from './content-hash.js';
import { MIRROR_ENV, datasetSpec, localName, type DatasetName, type DatasetSpec, type Split } from './datasets.js';
import { acquireDirectoryLock } from './directory-lock.js';
import { downloadFile, type DownloadOptions, type Verification } from './download.js';

export const DATASET_MANIFEST = 'dataset.json';
/** Held while a fetch writes into the folder. */
export const FETCH_LOCK_FILE = '.cs336-fetch.lock';
const FORMAT = 'cs336-dataset/1';

export interface FetchedFile {
  /** The local name, train.txt or valid.txt. */
  file: string;
  bytes: number;
  sha256: string;
  source: {
    name: string;
    /** A URL, or the path of a local file. */
    location: string;
    bytes: number;
    sha256: string;
    verified: Verification;
    checkedAgainst?: string;
    gzip: boolean;
  };
}

export interface DatasetManifest {
  format: typeof FORMAT;
  dataset: DatasetName;
  files: Partial<Record<Split, FetchedFile>>;
}

export interface FetchProgress {
  split: Split;
  phase: 'download' | 'copy' | 'decompress';
  /** The file being read (remote or local name). */
  name: string;
  bytesDone: number;
  bytesTotal: number | undefined;
}

export interface FetchDatasetOptions {
  /** The folder that receives train.txt, valid.txt and dataset.json. */
  dir: string;
  /** A local folder or a base URL holding the upstream file names; default $CS336_DATASET_MIRROR, then Hugging Face. */
  from?: string;
  onProgress?: (progress: FetchProgress) => void;
  /** Called when a phase of one file ends (to close a progress bar). */
  onPhaseEnd?: (progress: FetchProgress) => void;
  log?: (line: string) => void;
  download?: Pick<DownloadOptions, 'maxAttempts' | 'retryDelayMs' | 'idleTimeoutMs'>;
}

export interface FetchDatasetResult {
  dir: string;
  manifest: DatasetManifest;
  /** Absolute paths of train.txt and valid.txt. */
  train: string;
  valid: string;
  /** Splits that were already present and left alone. */
  reused: Split[];
}

export function readDatasetManifest(dir: string): DatasetManifest | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(dir, DATASET_MANIFEST), 'utf8')) as DatasetManifest;
    return parsed.format === FORMAT ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function writeManifest(dir: string, manifest: DatasetManifest): void {
  const file = path.join(dir, DATASET_MANIFEST);
  const temp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temp, JSON.stringify(manifest, null, 2) + '\n');
  fs.renameSync(temp, file);
}

/** True when the manifest entry describes the file on disk now (by content hash, cached by stat). */
async function isPresent(dir: string, entry: FetchedFile | undefined): Promise<boolean> {
  if (!entry) return false;
  const file = path.join(dir, entry.file);
  if (sizeOf(file) !== entry.bytes) return false;
  return (cachedContentHash(file) ?? (await contentHash(file))) === entry.sha256;
}

function sizeOf(file: string): number | undefined {
  try {
    return fs.statSync(file).size;
  } catch {
    return undefined;
  }
}

/** Does the dataset in `dir` hold both splits as the manifest records them? */
export async function isDatasetFetched(dir: string, name: DatasetName): Promise<boolean> {
  const manifest = readDatasetManifest(dir);
  if (manifest?.dataset !== name) return false;
  return (await isPresent(dir, manifest.files.train)) && (await isPresent(dir, manifest.files.valid));
}

/** Streams `source` (optionally gunzipping) into `dest` via a temp file; returns the output's size and SHA-256. */
async function writeThrough(source: string, dest: string, gzip: boolean, onBytes: (done: number) => void): Promise<{ bytes: number; sha256: string }> {
  // Temp files of a run that was killed mid-write: never a finished file, only wasted space.
  for (const entry of fs.readdirSync(path.dirname(dest))) {
    if (entry.startsWith(`${path.basename(dest)}.tmp-`)) fs.rmSync(path.join(path.dirname(dest), entry), { force: true });
  }
  const temp = `${dest}.tmp-${process.pid}`;
  const hash = createHash('sha256');
  let read = 0;
  let written = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      read += chunk.length;
      onBytes(read);
      callback(null, chunk);
    },
  });
  const hasher = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      written += chunk.length;
      callback(null, chunk);
    },
  });
  try {
    const input = fs.createReadStream(source, { highWaterMark: 1 << 22 });
    if (gzip) await pipeline(input, counter, createGunzip(), hasher, fs.createWriteStream(temp));
    else await pipeline(input, counter, hasher, fs.createWriteStream(temp));
    fs.renameSync(temp, dest);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw new Error(`${gzip ? 'decompressing' : 'copying'} ${source} failed: ${(error as Error).message}`);
  }
  return { bytes: written, sha256: hash.digest('hex') };
}

function isUrl(from: string): boolean {
  return /^https?:\/\//i.test(from);
}

export async function fetchDataset(name: DatasetName, options: FetchDatasetOptions): Promise<FetchDatasetResult> {
  const spec = datasetSpec(name);
  const dir = path.resolve(options.dir);
  const from = options.from ?? (process.env[MIRROR_ENV] || undefined);
  const log = options.log ?? (() => {});
  const local = from !== undefined && !isUrl(from) ? path.resolve(from) : undefined;
  // Check everything that can be checked before any byte moves.
  if (local !== undefined) {
    if (!fs.statSync(local, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`--from ${from}: not a folder (give a folder holding ${Object.values(spec.files).join(' and ')}, or a base URL)`);
    for (const file of Object.values(spec.files)) {
      if (!fs.existsSync(path.join(local, file))) throw new Error(`--from ${from}: ${file} is missing (the folder must hold ${Object.values(spec.files).join(' and ')})`);
    }
  }
  // Two fetches into one folder would write the same .part files at once: the second is refused.
  const release = acquireDirectoryLock(dir, FETCH_LOCK_FILE, `dataset folder ${dir}`);
  try {
    return await fetchLocked(name, spec, dir, from, local, options, log);
  } finally {
    release();
  }
}

async function fetchLocked(name: DatasetName, spec: DatasetSpec, dir: string, from: string | undefined, local: string | undefined,
  options: FetchDatasetOptions, log: (line: string) => void): Promise<FetchDatasetResult> {
  const base = (local === undefined ? from ?? spec.baseUrl : '').replace(/\/+$/, '');
  const previous = readDatasetManifest(dir);
  const manifest: DatasetManifest = { format: FORMAT, dataset: name, files: previous?.dataset === name ? { ...previous.files } : {} };
  const reused: Split[] = [];

  for (const split of ['train', 'valid'] as const) {
    const remote = spec.files[split];
    const target = path.join(dir, localName(split));
    if (await isPresent(dir, manifest.files[split])) {
      log(`${localName(split)}: already fetched (${manifest.files[split]!.bytes} bytes, sha256 ${manifest.files[split]!.sha256.slice(0, 12)}…)`);
      reused.push(split);
      continue;
    }
    if (manifest.files[split]) {
      delete manifest.files[split];
      writeManifest(dir, manifest); // the old entry must not outlive the file it described
    }
    const gzip = remote.endsWith('.gz');
    const progress = (phase: FetchProgress['phase'], file: string, total: number | undefined) => (done: number) =>
      options.onProgress?.({ split, phase, name: file, bytesDone: done, bytesTotal: total });
    const endPhase = (phase: FetchProgress['phase'], done: number) => options.onPhaseEnd?.({ split, phase, name: remote, bytesDone: done, bytesTotal: done });

    let source: FetchedFile['source'];
    let output: { bytes: number; sha256: string };
    if (local !== undefined) {
      const file = path.join(local, remote);
      const bytes = fs.statSync(file).size;
      output = await writeThrough(file, target, gzip, progress(gzip ? 'decompress' : 'copy', remote, bytes));
      endPhase(gzip ? 'decompress' : 'copy', bytes);
      const sha256 = gzip ? await contentHash(file) : output.sha256;
      source = { name: remote, location: file, bytes, sha256, verified: 'none', gzip };
    } else {
      const url = `${base}/${remote}`;
      const downloaded = gzip ? path.join(dir, remote) : target;
      let total: number | undefined;
      const result = await downloadFile(url, downloaded, {
        ...options.download,
        log,
        onProgress: (done, bytesTotal) => { total = bytesTotal; options.onProgress?.({ split, phase: 'download', name: remote, bytesDone: done, bytesTotal }); },
        unreachableHint: `Without that network, fetch from a local copy or a mirror holding ${remote}: cs336 data fetch ${name} --from DIR|URL`,
      });
      endPhase('download', total ?? result.bytes);
      log(`${remote}: ${result.bytes} bytes, ${result.verified === 'sha256' ? `SHA-256 verified against the ${result.checkedAgainst}` : result.verified === 'size' ? 'size checked (the server published no SHA-256)' : 'not verified (the server published neither size nor SHA-256)'}`);
      if (gzip) {
        output = await writeThrough(downloaded, target, true, progress('decompress', remote, result.bytes));
        endPhase('decompress', result.bytes);
        fs.rmSync(downloaded, { force: true });
      } else {
        output = { bytes: result.bytes, sha256: result.sha256 };
      }
      source = { name: remote, location: url, bytes: result.bytes, sha256: result.sha256, verified: result.verified, ...(result.checkedAgainst ? { checkedAgainst: result.checkedAgainst } : {}), gzip };
    }
    recordContentHash(target, output.sha256); // the pipeline keys its stages by this hash: never hash 12 GB twice
    manifest.files[split] = { file: localName(split), bytes: output.bytes, sha256: output.sha256, source };
    writeManifest(dir, manifest);
  }
  return { dir, manifest, train: path.join(dir, localName('train')), valid: path.join(dir, localName('valid')), reused };
}
