/** A byte-level tokenizer and a checkpoint of freshly initialized weights, for the export tests. */
import { initParameters, resolveTransformerConfig, transformerParameters, type TransformerConfig } from '@cs336/nn';
import { Tokenizer } from '@cs336/tokenizer';
import { saveCheckpoint, type Tensor } from '@cs336/train';

export const TINY_MODEL: Partial<TransformerConfig> = { vocabSize: 257, contextLength: 16, dModel: 16, numLayers: 2, numHeads: 2, dFf: 32 };

/** The 256 single bytes and <|endoftext|> (id 256), no merges. */
export function byteTokenizer(): Tokenizer {
  const vocab = new Map<number, Uint8Array>();
  for (let b = 0; b < 256; b++) vocab.set(b, Uint8Array.of(b));
  return new Tokenizer(vocab, [], ['<|endoftext|>']);
}

/** Saves `model` with weights from initParameters(seed) to `runDir`; returns the parameters. */
export function saveTinyCheckpoint(runDir: string, tokenizer: Tokenizer, model = TINY_MODEL, seed = 1): Map<string, Float32Array> {
  const weights = initParameters(model, { seed });
  const parameters = new Map<string, Tensor>();
  const m = new Map<string, Tensor>();
  const v = new Map<string, Tensor>();
  const result = new Map<string, Float32Array>();
  for (const { name, shape } of transformerParameters(resolveTransformerConfig(model))) {
    const values = weights[name] as Float32Array;
    parameters.set(name, { dtype: 'float32', dims: shape, data: values });
    m.set(name, { dtype: 'float32', dims: shape, data: new Float32Array(values.length) });
    v.set(name, { dtype: 'float32', dims: shape, data: new Float32Array(values.length) });
    result.set(name, values);
  }
  saveCheckpoint(runDir, {
    parameters, m, v,
    metadata: { step: 3, tokensSeen: 96, modelConfig: { ...resolveTransformerConfig(model) }, trainConfig: {}, tokenizerHash: tokenizer.hash() },
  });
  return result;
}
