/** A tiny model and synthetic uint16 token files for command tests that train in-process. */
import fs from 'node:fs';
import path from 'node:path';

export const TINY_MODEL = { vocabSize: 32, contextLength: 16, dModel: 16, numLayers: 1, numHeads: 2, dFf: 64 };

/** `count` ids with a learnable pattern (next = id·7 + small noise, mod vocab), written raw, plus a sidecar as cs336 tokenize writes. */
export function writeTokens(file: string, count: number, offset = 0): string {
  const ids = Uint16Array.from({ length: count }, (_, i) => ((i + offset) * 7 + ((i + offset) % 5)) % TINY_MODEL.vocabSize);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, Buffer.from(ids.buffer));
  fs.writeFileSync(`${file}.json`, JSON.stringify({ format: 'cs336-tokens', dtype: 'uint16', count, vocabSize: TINY_MODEL.vocabSize, tokenizerHash: 'synthetic', source: 'test' }));
  return file;
}
