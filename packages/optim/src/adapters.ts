/** Functional runners in the spirit of the course adapters: typed arrays in, numbers/arrays out, through ORT. */
import { GraphBuilder, runGraph, type SessionOptions } from '@cs336/graph';
import { crossEntropyGraph } from './cross-entropy-graph.js';
import type { FloatArray } from './float-array.js';

/** Mean cross-entropy of logits (..., V) against integer targets (...), computed by ONNX Runtime. */
export async function runCrossEntropy(
  logits: { data: FloatArray; dims: readonly number[] },
  targets: ArrayLike<number> | BigInt64Array,
  session?: SessionOptions,
): Promise<number> {
  const dims = logits.dims;
  const vocab = dims[dims.length - 1] ?? 0;
  const rows = dims.slice(0, -1).reduce((a, b) => a * b, 1);
  if (rows * vocab !== logits.data.length) throw new Error(`runCrossEntropy: dims [${dims.join(', ')}] need ${rows * vocab} logits, got ${logits.data.length}`);
  if (targets.length !== rows) throw new Error(`runCrossEntropy: expected ${rows} targets, got ${targets.length}`);
  const ids = targets instanceof BigInt64Array ? targets : BigInt64Array.from(Array.from(targets, (t) => BigInt(t)));
  ids.forEach((id, i) => {
    if (id < 0n || id >= BigInt(vocab)) throw new Error(`runCrossEntropy: target ${id} at position ${i} is not a class id in [0, ${vocab})`);
  });
  const dtype = logits.data instanceof Float64Array ? 'float64' : 'float32';
  const g = new GraphBuilder('cross_entropy');
  const loss = crossEntropyGraph(g.input('logits', dtype, dims), g.input('targets', 'int64', dims.slice(0, -1)));
  g.output(loss, 'loss');
  const out = await runGraph(g, {
    logits: { dtype, dims: [...dims], data: logits.data },
    targets: { dtype: 'int64', dims: dims.slice(0, -1), data: ids },
  }, session);
  return Number(out['loss']!.data[0]);
}
