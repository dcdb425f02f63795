/**
 * What a run was trained on, so a checkpoint is never continued on other data: the tokenizer hash
 * (from the token files' sidecar) and the SHA-256 of the train and validation token files. Token
 * files hold the ids, so the same text retokenized with the same tokenizer has the same identity,
 * and any change of text or tokenizer changes it. Hashes are cached by (size, mtime, inode)
 * (@cs336/data contentHash), so a multi-GB token file is read once, not at every start.
 */
import { contentHash } from '@cs336/data';
import type { CheckpointMetadata } from './checkpoint.js';
import type { TokenFile } from './token-file.js';

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

export async function dataIdentity(train: TokenFile, validation: TokenFile | undefined, log: (line: string) => void = () => {}): Promise<DataIdentity> {
  const tokenizer = train.sidecar?.tokenizerHash;
  const validTokenizer = validation?.sidecar?.tokenizerHash;
  if (tokenizer && validTokenizer && tokenizer !== validTokenizer) {
    throw new RunStateError(`${validation!.path} was tokenized with tokenizer ${validTokenizer.slice(0, 12)}, ${train.path} with ${tokenizer.slice(0, 12)}; tokenize both with the same tokenizer`);
  }
  const hash = async (file: TokenFile) => {
    const started = performance.now();
    const sha = await contentHash(file.path);
    const seconds = (performance.now() - started) / 1000;
    if (seconds > 1) log(`hashed ${file.path} in ${seconds.toFixed(1)} s (cached from now on)`);
    return sha;
  };
  return {
    ...(tokenizer ? { tokenizer } : {}),
    trainData: await hash(train),
    ...(validation ? { validationData: await hash(validation) } : {}),
  };
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
