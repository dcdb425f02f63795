/**
 * decode_loop: up to N decode steps inside one ONNX Loop, so that the KV cache stays in the runtime.
 * Through onnxruntime-node every output of a run comes back to the host, so one decode_step per token
 * ships the whole cache out and back each time; here it crosses once per N tokens.
 *
 * Inputs: the parameters (or baked), the pending id [1, 1] at `position` [1] (the last token, not yet
 * in the cache), each layer's cache `past.<i>.k|v` [1, h, P, dk] (P = position), `uniforms` int64 [N]
 * (one u·2^53 per token, from generate()'s Random) and `stop_token` int64 scalar (−1 for none).
 * Each iteration runs the decode step on the pending id, samples the next one (sampling-graph.ts) and
 * carries it, the position and the cache extended by one (by default the carried tensors grow along their
 * symbolic axis; `cache: 'fixed'` preallocates [1, h, Tmax, dk] instead: see the README for which is faster).
 * The loop ends after N tokens or right after the stop token.
 *
 * Outputs: `generated` int64 [n ≤ N], the cache `present.<i>.k|v` [1, h, P + n, dk] (the last
 * generated id is the next call's pending id), `finite` bool [n] when sampling (false where the
 * logits were not finite), and with `logits: true` the logits of every step, [n, 1, V] (for tests).
 */
import { GraphBuilder, add, concat, constantOfShape, equal, gather, int64s, loop, not, reshape, shape, squeeze, sub, unsqueeze, type Value } from '@cs336/graph';
import { transformerLm, transformerParameters, type KvCache, type TransformerConfig } from '@cs336/nn';
import { sampleToken, type SamplingSettings } from './sampling-graph.js';
import { IDS_INPUT, LOGITS_OUTPUT, POSITION_INPUT, kvName } from './train-step.js';

export const UNIFORMS_INPUT = 'uniforms';
export const STOP_TOKEN_INPUT = 'stop_token';
export const GENERATED_OUTPUT = 'generated';
export const FINITE_OUTPUT = 'finite';

export interface DecodeLoopOptions {
  /** Also output every step's logits [n, 1, V]. */
  logits?: boolean;
  /**
   * How the loop carries the cache: 'grow' (default) appends a position per step (Concat); 'fixed' pads
   * it to the context once, writes each step's keys and values at their slot and masks the slots after
   * it (the whole context attended every step), then cuts it back to the positions filled.
   */
  cache?: 'grow' | 'fixed';
}

export function buildDecodeLoopGraph(model: TransformerConfig, sampling: SamplingSettings, options: DecodeLoopOptions = {}): GraphBuilder {
  const g = new GraphBuilder('decode_loop');
  const weights = Object.fromEntries(transformerParameters(model).map((spec) => [spec.name, g.parameter(spec.name, 'float32', spec.shape)]));
  const id = g.input(IDS_INPUT, 'int64', [1, 1]);
  const position = g.input(POSITION_INPUT, 'int64', [1]);
  const headSize = model.dModel / model.numHeads;
  const past = Array.from({ length: model.numLayers }, (_, i) => [
    g.input(kvName('past', i, 'k'), 'float32', [1, model.numHeads, 'P', headSize]),
    g.input(kvName('past', i, 'v'), 'float32', [1, model.numHeads, 'P', headSize]),
  ]).flat();
  const uniforms = g.input(UNIFORMS_INPUT, 'int64', ['N']);
  const stopToken = g.input(STOP_TOKEN_INPUT, 'int64', []);

  const layout = options.cache ?? 'grow';
  const T = model.contextLength;
  // Fixed: [1, h, P, dk] → [1, h, T, dk], zeros after the filled positions.
  const padded = layout === 'grow' ? past : past.map((x) => {
    const zeros = constantOfShape(concat([int64s(g, [1, model.numHeads]), sub(int64s(g, [T]), shape(x, 2, 3)), int64s(g, [headSize])], 0), 0, 'float32');
    return reshape(concat([x, zeros], 2), [1, model.numHeads, T, headSize]);
  });
  const result = loop(g, {
    tripCount: squeeze(shape(uniforms), [0]),
    carried: [id, position, ...padded],
    body: (_b, iteration, [pending, at, ...kv]) => {
      const cache: KvCache = { past: Array.from({ length: model.numLayers }, (_, i) => ({ k: kv[2 * i]!, v: kv[2 * i + 1]! })), position: at!, present: [], layout };
      const logits = squeeze(transformerLm(pending!, weights, model, { kvCache: cache }), [1]); // [1, V]
      const next = sampleToken(logits, gather(uniforms, iteration, 0), sampling);
      const scans: Value[] = [squeeze(next.id, [0])];
      if (next.finite) scans.push(next.finite);
      if (options.logits) scans.push(logits);
      return {
        carried: [unsqueeze(next.id, [0]), add(at!, 1), ...cache.present.flatMap((layer) => [layer.k, layer.v])],
        scanOutputs: scans,
        condition: not(equal(squeeze(next.id, [0]), stopToken)),
      };
    },
  });
  g.output(result.scanOutputs[0]!, GENERATED_OUTPUT);
  if (sampling.temperature !== 0) g.output(result.scanOutputs[1]!, FINITE_OUTPUT);
  if (options.logits) g.output(result.scanOutputs.at(-1)!, LOGITS_OUTPUT);
  // Fixed: back to the positions filled, [1, h, P + n, dk] (the final position is P + n).
  const filled = (x: Value): Value => layout === 'grow' ? x : g.addNode('Slice', [x, int64s(g, [0]), result.carried[1]!, int64s(g, [2])], [{ dtype: 'float32', shape: [1, model.numHeads, g.unknownDim(), headSize] }])[0]!;
  for (let i = 0; i < model.numLayers; i++) {
    g.output(filled(result.carried[2 + 2 * i]!), kvName('present', i, 'k'));
    g.output(filled(result.carried[3 + 2 * i]!), kvName('present', i, 'v'));
  }
  return g;
}
