/** Run-mode switches shared by the graph pieces: dropout is active only when training. */
import { dropout, type GraphBuilder, type Value } from '@cs336/graph';

export interface ForwardOptions {
  /** Build the training graph (dropout on). Default false: dropout nodes are left out entirely. */
  training?: boolean;
  /** Base seed for ORT's Dropout nodes; each node gets seed + its index so masks differ between nodes. */
  seed?: number;
}

const dropoutCounts = new WeakMap<GraphBuilder, number>();

/** Inverted dropout with probability p when training, else x unchanged (no node). */
export function maybeDropout(x: Value, p: number, options: ForwardOptions = {}): Value {
  if (!options.training || p === 0) return x;
  const root = x.graph;
  const index = dropoutCounts.get(root) ?? 0;
  dropoutCounts.set(root, index + 1);
  return dropout(x, p, true, options.seed === undefined ? undefined : options.seed + index);
}
