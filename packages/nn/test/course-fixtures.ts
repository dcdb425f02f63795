/** Loads the course's model fixtures (derived/npy) by name, plus the configs the course tests use. */
import fs from 'node:fs';
import { fixturePath, readNpy, type NpyArray } from '../../../test-support/fixtures.js';

export function npy(...parts: string[]): NpyArray {
  return readNpy(fixturePath('derived', 'npy', ...parts));
}

/** Every tensor of a state-dict fixture folder, keyed by its state-dict name. */
export function stateDict(folder: string): { weights: Record<string, Float32Array>; shapes: Record<string, number[]> } {
  const weights: Record<string, Float32Array> = {};
  const shapes: Record<string, number[]> = {};
  for (const file of fs.readdirSync(fixturePath('derived', 'npy', folder))) {
    const key = file.replace(/\.npy$/, '');
    const array = npy(folder, file);
    weights[key] = array.data as Float32Array;
    shapes[key] = array.shape;
  }
  return { weights, shapes };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** The course tests' hyperparameters (tests/test_model.py). */
export const COURSE_LM = { vocabSize: 100, contextLength: 64, dModel: 128, numLayers: 2, numHeads: 2, dFf: 512 } as const;
export const COURSE_BLOCK = { dModel: 64, numHeads: 2, dFf: 256 } as const;
export const COURSE_MHA = { dModel: 64, numHeads: 2 } as const;
