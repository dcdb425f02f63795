/** Linear without bias, y = x Wᵀ, with W stored (dOut, dIn) like torch.nn.Linear. */
import { matMul, transpose, type Value } from '@cs336/graph';

/** x (..., dIn), weight (dOut, dIn) → (..., dOut). */
export function linear(x: Value, weight: Value): Value {
  return matMul(x, transpose(weight, [1, 0]));
}
