import { GraphBuilder, runGraph } from '@cs336/graph';
import { crossEntropy } from '@cs336/optim';
import { crossEntropyWithGradient } from './train-step.js';

/** Runs crossEntropyWithGradient on logits [1, T, V] and targets [1, T]. */
async function run(logits: number[], targets: number[], V: number) {
  const T = targets.length;
  const g = new GraphBuilder('ce');
  const o = g.input('logits', 'float32', [1, T, V]);
  const t = g.input('targets', 'int64', [1, T]);
  const { loss, logitsGrad } = crossEntropyWithGradient(o, t);
  g.output(loss, 'loss');
  g.output(logitsGrad, 'grad');
  const out = await runGraph(g, {
    logits: { dtype: 'float32', dims: [1, T, V], data: Float32Array.from(logits) },
    targets: { dtype: 'int64', dims: [1, T], data: BigInt64Array.from(targets.map(BigInt)) },
  });
  return { loss: (out.loss!.data as Float32Array)[0]!, grad: Array.from(out.grad!.data as Float32Array) };
}

describe('crossEntropyWithGradient', () => {
  it('matches the host cross-entropy and (softmax − onehot) / N', async () => {
    const V = 5;
    const logits = [0.3, -1.2, 2.0, 0.1, -0.5, 1.5, 1.4, -3.0, 0.0, 0.7];
    const targets = [2, 4];
    const { loss, grad } = await run(logits, targets, V);
    expect(loss).toBeCloseTo(crossEntropy(Float64Array.from(logits), [2, V], Int32Array.from(targets)), 5);
    for (let row = 0; row < 2; row++) {
      const z = logits.slice(row * V, row * V + V);
      const sum = z.reduce((a, x) => a + Math.exp(x), 0);
      z.forEach((x, j) => expect(grad[row * V + j]).toBeCloseTo((Math.exp(x) / sum - (j === targets[row] ? 1 : 0)) / 2, 6));
    }
  });

  it('stays finite when the target probability underflows float32', async () => {
    // softmax of the target is e^-200: 0 in float32, so log(softmax) would be −∞.
    const { loss, grad } = await run([0, 200, 0], [0], 3);
    expect(loss).toBeCloseTo(200, 3);
    expect(grad.every(Number.isFinite)).toBe(true);
    expect(grad[0]).toBeCloseTo(-1, 6);
    expect(grad[1]).toBeCloseTo(1, 6);
  });
});
