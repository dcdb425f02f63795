/**
 * Cross-entropy as a graph fragment: mean over every batch position of −log softmax(logits)[target].
 * ONNX LogSoftmax subtracts the row maximum internally, so large logits stay finite.
 */
import { gatherElements, logSoftmax, neg, reduceMean, unsqueeze, type Value } from '@cs336/graph';

/** logits (..., V) float, targets (...) int64 → scalar loss (same dtype as logits). */
export function crossEntropyGraph(logits: Value, targets: Value): Value {
  if (targets.shape.length !== logits.shape.length - 1) {
    throw new Error(
      `crossEntropyGraph: targets ${targets.name} must have one dim fewer than logits ${logits.name} ` +
        `(got [${targets.shape.join(', ')}] for logits [${logits.shape.join(', ')}])`,
    );
  }
  const logProbabilities = logSoftmax(logits, -1); // (..., V)
  const picked = gatherElements(logProbabilities, unsqueeze(targets, [-1]), -1); // (..., 1)
  return neg(reduceMean(picked, undefined, false)); // ()
}
