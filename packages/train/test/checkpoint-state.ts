import type { CheckpointState } from '../src/checkpoint.js';

/** A small checkpoint whose every value depends on `version`, for save/load tests. */
export function checkpointState(version: number, modelConfig: Record<string, unknown> = { dModel: 8, numLayers: 1 }): CheckpointState {
  const shapes: Record<string, number[]> = { 'token_embeddings.weight': [16, 8], 'layers.0.ln1.weight': [8], 'lm_head.weight': [16, 8] };
  const fill = (salt: number, dims: number[]) => ({ dtype: 'float32' as const, dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => version * 1000 + salt + i * 0.5) });
  const names = Object.keys(shapes);
  return {
    parameters: new Map(names.map((n, i) => [n, fill(i, shapes[n]!)])),
    m: new Map(names.map((n, i) => [n, fill(100 + i, shapes[n]!)])),
    v: new Map(names.map((n, i) => [n, fill(200 + i, shapes[n]!)])),
    metadata: { step: version * 10, tokensSeen: version * 640, modelConfig, trainConfig: { lr: 1e-3 }, tokenizerHash: 'abc', randomState: { algorithm: 'xoshiro128**', words: [1, 2, 3, version] }, dataPosition: version * 4 },
  };
}
