/** The first `count` rows of a matrix; count is a number or a run-time int64 [1] Value (for a symbolic T). */
import { int64s, slice, type Dim, type Value } from '@cs336/graph';

/** x (N, ...) → (count, ...). `dim` names the result's first dim when count is a run-time Value. */
export function sliceRows(x: Value, count: number | Value, dim?: Dim): Value {
  if (typeof count === 'number') return slice(x, [0], [count], [0]);
  const g = x.graph;
  // ops.slice takes static ends; a run-time end needs the raw Slice node.
  const [out] = g.addNode('Slice', [x, int64s(g, [0]), count, int64s(g, [0])], [
    { dtype: x.dtype, shape: [dim ?? g.unknownDim(), ...x.shape.slice(1)] },
  ]);
  return out!;
}
