/**
 * Crash-safe training checkpoints: one safetensors file holding the parameters under their course
 * state-dict names, the AdamW moments as "optimizer.m.<name>" / "optimizer.v.<name>", and JSON
 * metadata (step, configs, tokenizer hash, RNG state, data position, checksum).
 *
 * Saving writes a temp file in the same directory, fsyncs it, renames it over the old checkpoint and
 * fsyncs the directory. rename() is atomic, so a crash (even SIGKILL) at any moment leaves either the
 * old checkpoint or the new one, never a torn file. The fs calls go through `CheckpointFs` so tests
 * can make a write fail with ENOSPC.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { canonicalJson, describeDifferences } from './config-hash.js';
import type { LossScaleState } from './loss-scale.js';
import type { RandomState } from './random.js';
import { decodeSafetensors, encodeSafetensors, type Tensor } from './safetensors.js';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
const FORMAT = 'cs336-checkpoint/1';

export interface CheckpointMetadata {
  step: number;
  tokensSeen: number;
  modelConfig: Record<string, unknown>;
  trainConfig: Record<string, unknown>;
  tokenizerHash?: string;
  /** Content hashes of the token files the run trained on (see run-identity.ts). */
  data?: { trainData: string; validationData?: string };
  /** The sampler's state after the last completed step (batches also depend only on seed and step). */
  randomState?: RandomState;
  /** Training windows drawn so far. */
  dataPosition?: number;
  bestValidationLoss?: number;
  wallTimeSeconds?: number;
  /** fp16 runs: the loss scale, clean-step count and applied AdamW updates to resume with. */
  lossScale?: LossScaleState;
}

export interface CheckpointState {
  parameters: Map<string, Tensor>;
  /** AdamW first moments, keyed by parameter name. */
  m: Map<string, Tensor>;
  /** AdamW second moments, keyed by parameter name. */
  v: Map<string, Tensor>;
  metadata: CheckpointMetadata;
}

/** The few fs calls a save makes, injectable for fault tests. */
export interface CheckpointFs {
  openSync(file: string, flags: string): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(file: string): void;
}

const NODE_FS: CheckpointFs = {
  openSync: (file, flags) => fs.openSync(file, flags),
  writeSync: (fd, buffer, offset, length) => fs.writeSync(fd, buffer, offset, length),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  closeSync: (fd) => fs.closeSync(fd),
  renameSync: (from, to) => fs.renameSync(from, to),
  unlinkSync: (file) => fs.unlinkSync(file),
};

export interface SaveCheckpointOptions {
  fs?: CheckpointFs;
}

/** `dir/checkpoint.safetensors` for a directory, the path itself for a file. */
export function checkpointPath(target: string): string {
  return target.endsWith('.safetensors') ? target : path.join(target, CHECKPOINT_FILE);
}

function tensorBytes(tensor: Tensor): Uint8Array {
  return new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
}

/** SHA-256 over every tensor's name, dtype, shape and bytes, in name order. */
function checksum(tensors: Map<string, Tensor>): string {
  const hash = createHash('sha256');
  for (const name of [...tensors.keys()].sort()) {
    const tensor = tensors.get(name)!;
    hash.update(`${name}\0${tensor.dtype}\0${tensor.dims.join(',')}\0`);
    hash.update(tensorBytes(tensor));
  }
  return hash.digest('hex');
}

function allTensors(state: Pick<CheckpointState, 'parameters' | 'm' | 'v'>): Map<string, Tensor> {
  const out = new Map<string, Tensor>(state.parameters);
  for (const [name, tensor] of state.m) out.set(`optimizer.m.${name}`, tensor);
  for (const [name, tensor] of state.v) out.set(`optimizer.v.${name}`, tensor);
  return out;
}

/** Writes the checkpoint atomically into `target` (a directory or a .safetensors path); returns the file. */
export function saveCheckpoint(target: string, state: CheckpointState, options: SaveCheckpointOptions = {}): string {
  const io = options.fs ?? NODE_FS;
  const file = checkpointPath(target);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  for (const name of state.parameters.keys()) {
    if (!state.m.has(name) || !state.v.has(name)) throw new Error(`saveCheckpoint: parameter "${name}" has no AdamW moment; pass m and v for every parameter`);
  }
  const tensors = allTensors(state);
  const bytes = encodeSafetensors(tensors, {
    format: FORMAT,
    checksum: checksum(tensors),
    cs336: JSON.stringify(state.metadata),
  });
  removeStaleTemps(file);
  const temp = `${file}.tmp-${process.pid}`;
  let fd: number | undefined;
  try {
    fd = io.openSync(temp, 'w');
    let done = 0;
    while (done < bytes.length) done += io.writeSync(fd, bytes, done, bytes.length - done);
    io.fsyncSync(fd);
    io.closeSync(fd);
    fd = undefined;
    io.renameSync(temp, file);
  } catch (error) {
    if (fd !== undefined) { try { io.closeSync(fd); } catch { /* already failing */ } }
    try { io.unlinkSync(temp); } catch { /* may not exist */ }
    const code = (error as NodeJS.ErrnoException).code;
    const kept = fs.existsSync(file) ? `the previous checkpoint ${file} is intact` : 'no earlier checkpoint exists';
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      throw new Error(`disk full while saving checkpoint ${file} (${bytes.length} bytes, ${code}); ${kept}. Free space or point the run directory elsewhere, then resume.`);
    }
    throw new Error(`could not save checkpoint ${file}: ${(error as Error).message}; ${kept}`);
  }
  syncDirectory(path.dirname(file));
  return file;
}

/** Temp files left by a crashed save (they never replace the checkpoint, they only take space). */
function removeStaleTemps(file: string): void {
  const prefix = `${path.basename(file)}.tmp-`;
  for (const entry of fs.readdirSync(path.dirname(file))) {
    if (entry.startsWith(prefix)) fs.rmSync(path.join(path.dirname(file), entry), { force: true });
  }
}

/** fsync the directory so the rename itself survives a power cut (not supported everywhere; best effort). */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * The metadata of a checkpoint, read from the safetensors header alone (no tensors, no checksum):
 * cheap enough to decide whether a run directory's model fits the data. Undefined when there is no
 * checkpoint; an error when the file is not a cs336 checkpoint.
 */
export function readCheckpointMetadata(target: string): CheckpointMetadata | undefined {
  const file = checkpointPath(target);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const lengthBytes = Buffer.alloc(8);
    if (fs.readSync(fd, lengthBytes, 0, 8, 0) !== 8) throw new Error('shorter than a safetensors header');
    const length = Number(lengthBytes.readBigUInt64LE(0));
    if (length > 100 << 20) throw new Error(`header length ${length} is not plausible`);
    const header = Buffer.alloc(length);
    if (fs.readSync(fd, header, 0, length, 8) !== length) throw new Error('the header is truncated');
    const metadata = (JSON.parse(header.toString('utf8')) as { __metadata__?: Record<string, string> }).__metadata__;
    if (metadata?.format !== FORMAT || metadata.cs336 === undefined) throw new Error(`metadata format ${JSON.stringify(metadata?.format)}, expected "${FORMAT}"`);
    return JSON.parse(metadata.cs336) as CheckpointMetadata;
  } catch (error) {
    throw new Error(`${file}: not a readable cs336 checkpoint (${(error as Error).message})`);
  } finally {
    fs.closeSync(fd);
  }
}

export interface LoadCheckpointOptions {
  /** When given, the checkpoint's model config must equal it (else an error listing the differences). */
  modelConfig?: Record<string, unknown>;
  /** When given, exactly these parameters with these shapes must be present. */
  parameters?: ReadonlyArray<{ name: string; shape: readonly number[] }>;
}

export function loadCheckpoint(target: string, options: LoadCheckpointOptions = {}): CheckpointState {
  const file = checkpointPath(target);
  if (!fs.existsSync(file)) throw new Error(`no checkpoint at ${file}; train first or pass the run directory that holds ${CHECKPOINT_FILE}`);
  const { tensors, metadata } = decodeSafetensors(fs.readFileSync(file), file);
  if (metadata.format !== FORMAT || metadata.cs336 === undefined) {
    throw new Error(`${file}: not a cs336 training checkpoint (metadata format ${JSON.stringify(metadata.format)}, expected "${FORMAT}")`);
  }
  const actual = checksum(tensors);
  if (actual !== metadata.checksum) throw new Error(`${file}: checksum mismatch (stored ${metadata.checksum}, computed ${actual}); the file is corrupt`);
  const meta = JSON.parse(metadata.cs336) as CheckpointMetadata;
  if (options.modelConfig && canonicalJson(options.modelConfig) !== canonicalJson(meta.modelConfig)) {
    const differences = describeDifferences(options.modelConfig, meta.modelConfig);
    throw new Error(`${file} was trained with another model config (${differences.join('; ')}); use a matching config or a fresh run directory`);
  }
  const state: CheckpointState = { parameters: new Map(), m: new Map(), v: new Map(), metadata: meta };
  for (const [name, tensor] of tensors) {
    if (name.startsWith('optimizer.m.')) state.m.set(name.slice('optimizer.m.'.length), tensor);
    else if (name.startsWith('optimizer.v.')) state.v.set(name.slice('optimizer.v.'.length), tensor);
    else state.parameters.set(name, tensor);
  }
  for (const name of state.parameters.keys()) {
    if (!state.m.has(name) || !state.v.has(name)) throw new Error(`${file}: parameter "${name}" has no AdamW moments`);
  }
  if (options.parameters) {
    const expected = new Map(options.parameters.map((p) => [p.name, p.shape]));
    for (const [name, shape] of expected) {
      const tensor = state.parameters.get(name);
      if (!tensor) throw new Error(`${file}: missing parameter "${name}"; the checkpoint is from another model`);
      if (tensor.dims.join(',') !== shape.join(',')) {
        throw new Error(`${file}: parameter "${name}" has shape [${tensor.dims.join(', ')}], the model needs [${shape.join(', ')}]`);
      }
    }
    for (const name of state.parameters.keys()) {
      if (!expected.has(name)) throw new Error(`${file}: unexpected parameter "${name}"; the checkpoint is from another model`);
    }
  }
  return state;
}
