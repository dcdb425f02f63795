/** A tiny model and synthetic token files for the training tests (fast on 1 CPU thread). */
import fs from 'node:fs';
import path from 'node:path';
import { Random } from '../src/random.js';

export const TINY_MODEL = { vocabSize: 16, contextLength: 8, dModel: 16, numLayers: 1, numHeads: 2, dFf: 32 };

/**
 * Writes `count` uint16 tokens with a learnable pattern (mostly id+1 mod vocab, some noise) and a
 * cs336-tokens sidecar, so the loss has somewhere to go.
 */
export function writeTokenFile(file: string, count: number, seed: number, vocabSize = TINY_MODEL.vocabSize): string {
  const random = Random.seeded(seed);
  const ids = new Uint16Array(count);
  for (let i = 1; i < count; i++) ids[i] = random.nextInt(4) === 0 ? random.nextInt(vocabSize) : (ids[i - 1]! + 1) % vocabSize;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, Buffer.from(ids.buffer));
  fs.writeFileSync(`${file}.json`, JSON.stringify({ format: 'cs336-tokens', dtype: 'uint16', count, vocabSize, tokenizerHash: 'synthetic', source: 'test' }));
  return file;
}
