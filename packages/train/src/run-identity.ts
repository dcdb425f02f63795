/**
 * What a run was trained on, so a checkpoint is never continued on other data: the tokenizer hash
 * (from the token files' sidecar) and the SHA-256 of the train and validation token files. Token
 * files hold the ids, so the same text retokenized with the same tokenizer has the same identity,
 * and any change of text or tokenizer changes it. Hashes are cached by (size, mtime, inode)
 * (@cs336/data contentHash), so a multi-GB token file is read once, not at every start.
 *
 * The same pass checks every id against the vocabulary: the file's largest id is cached with its hash
 * (as a fact of those bytes), so a first start reads each token file once and later starts not at all.
 */
import { cachedContentHash, cachedFileFacts, contentHash, recordFileFacts } from '@cs336/data';
import type { CheckpointMetadata } from './checkpoint.js';
import { LargestIdScanner, type TokenFile } from './token-file.js';

export interface DataIdentity {
  /** The tokenizer hash the train sidecar records; absent for files without a sidecar. */
  tokenizer?: string;
  /** SHA-256 of the training token file. */
  trainData: string;
  /** SHA-256 of the validation token file, when there is one. */
  validationData?: string;
}

/** A run directory whose state does not fit the request (refused before any work). */
export class RunStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunStateError';
  }
}

/** What reading (or not reading) the token files cost, for the run's log. */
export interface DataCheck {
  /** Bytes read to hash and check the ids (0 when both came from the cache). */
  bytesRead: number;
  seconds: number;
}

/**
 * The identity of the data, and a check that every id is below `vocabSize` (throws naming the first
 * offending id and its offset). Each token file is read at most once, and not at all when its hash and
 * largest id are cached for its current (size, mtime, inode).
 */
export async function dataIdentity(train: TokenFile, validation: TokenFile | undefined, vocabSize: number): Promise<DataIdentity & { check: DataCheck }> {
  const tokenizer = train.sidecar?.tokenizerHash;
  const validTokenizer = validation?.sidecar?.tokenizerHash;
  if (tokenizer && validTokenizer && tokenizer !== validTokenizer) {
    throw new RunStateError(`${validation!.path} was tokenized with tokenizer ${validTokenizer.slice(0, 12)}, ${train.path} with ${tokenizer.slice(0, 12)}; tokenize both with the same tokenizer`);
  }
  const started = performance.now();
  let bytesRead = 0;
  const identify = async (file: TokenFile) => {
    const result = await hashAndCheckIds(file, vocabSize);
    bytesRead += result.bytesRead;
    return result.sha256;
  };
  const trainData = await identify(train);
  const validationData = validation ? await identify(validation) : undefined;
  const seconds = (performance.now() - started) / 1000;
  return {
    ...(tokenizer ? { tokenizer } : {}),
    trainData,
    ...(validationData ? { validationData } : {}),
    check: { bytesRead, seconds },
  };
}

async function hashAndCheckIds(file: TokenFile, vocabSize: number): Promise<{ sha256: string; bytesRead: number }> {
  const fact = `largestId.${file.dtype}`; // the same bytes read as uint32 have another largest id
  const bytes = file.length * (file.dtype === 'uint16' ? 2 : 4);
  let sha256 = cachedContentHash(file.path);
  let largest = sha256 ? cachedFileFacts(file.path)?.[fact] : undefined;
  let bytesRead = 0;
  if (!sha256) {
    const scanner = new LargestIdScanner(file.dtype);
    let seen = 0;
    sha256 = await contentHash(file.path, {
      onChunk: (chunk) => { scanner.push(chunk); seen += chunk.length; },
      facts: () => ({ [fact]: scanner.largest }),
    });
    bytesRead = seen;
    if (seen === bytes) largest = scanner.largest;
  }
  if (largest === undefined) {
    // Hashed earlier without the fact (a download seeds the hash): scan once and remember.
    largest = file.scanIds(Number.MAX_SAFE_INTEGER);
    bytesRead += bytes;
    recordFileFacts(file.path, { [fact]: largest });
  }
  // scanIds names the first bad id and its offset; the cached maximum only says that there is one.
  if (largest >= vocabSize) file.scanIds(vocabSize);
  return { sha256, bytesRead };
}

const LABELS: Record<keyof DataIdentity, string> = { tokenizer: 'tokenizer', trainData: 'train data', validationData: 'validation data' };

/** "tokenizer 1a2b3c4d5e6f, train data …" with 12-digit prefixes. */
export function describeIdentity(identity: Partial<DataIdentity>): string {
  return (Object.keys(LABELS) as (keyof DataIdentity)[])
    .filter((key) => identity[key] !== undefined)
    .map((key) => `${LABELS[key]} ${identity[key]!.slice(0, 12)}`)
    .join(', ');
}

/** The fields on which two identities differ (a field missing on either side is not compared). */
export function identityDifferences(saved: Partial<DataIdentity>, current: Partial<DataIdentity>): (keyof DataIdentity)[] {
  return (Object.keys(LABELS) as (keyof DataIdentity)[]).filter((key) => saved[key] !== undefined && current[key] !== undefined && saved[key] !== current[key]);
}

/** The identity a checkpoint records; older checkpoints only carry the tokenizer hash. */
export function savedIdentity(metadata: CheckpointMetadata): Partial<DataIdentity> {
  return { ...(metadata.tokenizerHash ? { tokenizer: metadata.tokenizerHash } : {}), ...metadata.data };
}

/** "a", "a and b", "a, b and c". */
function listing(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** Throws a RunStateError naming both identities when `current` is not what the checkpoint was trained on. */
export function checkSameData(checkpointFile: string, metadata: CheckpointMetadata, current: DataIdentity): void {
  const saved = savedIdentity(metadata);
  const differ = identityDifferences(saved, current);
  if (differ.length === 0) return;
  throw new RunStateError(
    `${checkpointFile} (step ${metadata.step}) was trained on other data: its ${listing(differ.map((key) => LABELS[key]))} ${differ.length === 1 ? 'does' : 'do'} not match this run's.\n` +
      `  checkpoint: ${describeIdentity(saved)}\n  now:        ${describeIdentity(current)}\n` +
      'Resuming would continue that model on data it was not trained with. Start over in this run directory with --fresh ' +
      '(it replaces the checkpoint), or train into a new --run-dir.',
  );
}
