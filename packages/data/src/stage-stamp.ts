/**
 * Stage stamps: a small JSON file beside a stage's outputs recording the content hashes (and
 * settings) of the inputs they were made from. A stage is current exactly when the stamp's key
 * equals the key of today's inputs — file contents, never mtimes, decide.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface StageStamp {
  stage: string;
  /** sha256 of the canonical JSON of `inputs` (first 16 hex digits). */
  key: string;
  /** What the outputs were made from: input content hashes and the settings that matter. */
  inputs: Record<string, unknown>;
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v);
}

export function stageStamp(stage: string, inputs: Record<string, unknown>): StageStamp {
  return { stage, key: createHash('sha256').update(canonical(inputs)).digest('hex').slice(0, 16), inputs };
}

/** The stamp stored at `file`, or undefined when there is none (or it is unreadable). */
export function readStageStamp(file: string): StageStamp | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as StageStamp;
    return typeof parsed.key === 'string' && typeof parsed.stage === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** True when `file` holds a stamp with the same key as `wanted`. */
export function isStageCurrent(file: string, wanted: StageStamp): boolean {
  return readStageStamp(file)?.key === wanted.key;
}

/** Writes the stamp atomically; write it only after the stage's outputs are all in place. */
export function writeStageStamp(file: string, stamp: StageStamp): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temp, JSON.stringify(stamp, null, 2) + '\n');
  fs.renameSync(temp, file);
}

/** Removes a stamp before its stage reruns, so a crash mid-stage never leaves old outputs marked current. */
export function clearStageStamp(file: string): void {
  fs.rmSync(file, { force: true });
}
