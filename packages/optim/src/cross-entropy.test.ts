import { crossEntropy } from './cross-entropy.js';
import { randomFloat64, seededUniform } from '../test/random.js';

// Independent reference: log-sum-exp by folding logaddexp pairwise (no global max), then −log p[target].
function logAddExp(a: number, b: number): number {
  const hi = Math.max(a, b);
  return hi + Math.log1p(Math.exp(-Math.abs(a - b)));
}
function referenceCrossEntropy(logits: Float64Array, rows: number, vocab: number, targets: number[]): number {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    let lse = -Infinity;
    for (let j = 0; j < vocab; j++) lse = lse === -Infinity ? logits[r * vocab + j]! : logAddExp(lse, logits[r * vocab + j]!);
    total += lse - logits[r * vocab + targets[r]!]!;
  }
  return total / rows;
}

describe('crossEntropy', () => {
  // Mirrors the course test: (8, 5) logits, random targets, then the same logits ×1000.
  const rows = 8, vocab = 5;
  const logits = randomFloat64(rows * vocab, 7);
  const uniform = seededUniform(11);
  const targets = Array.from({ length: rows }, () => Math.floor(uniform() * vocab));

  it('matches a logaddexp reference', () => {
    expect(crossEntropy(logits, [rows, vocab], targets)).toBeCloseTo(referenceCrossEntropy(logits, rows, vocab, targets), 12);
  });

  it('stays finite and correct for logits ×1000', () => {
    const large = logits.map((x) => x * 1000);
    const loss = crossEntropy(large, [rows, vocab], targets);
    expect(Number.isFinite(loss)).toBe(true);
    expect(loss).toBeCloseTo(referenceCrossEntropy(large, rows, vocab, targets), 8);
  });

  it('averages over every batch dimension and accepts float32 and bigint targets', () => {
    const flat = crossEntropy(logits, [rows, vocab], targets);
    const asBatch = crossEntropy(Float32Array.from(logits), [2, 4, vocab], BigInt64Array.from(targets.map(BigInt)));
    expect(asBatch).toBeCloseTo(flat, 5);
  });

  it('is log(vocab) for uniform logits', () => {
    expect(crossEntropy(new Float64Array(3 * 7), [3, 7], [0, 3, 6])).toBeCloseTo(Math.log(7), 14);
  });

  it('names bad targets and shapes', () => {
    expect(() => crossEntropy(logits, [rows, vocab], targets.slice(1))).toThrow(/expected 8 targets/);
    expect(() => crossEntropy(logits, [rows, vocab + 1], targets)).toThrow(/dims \[8, 6\]/);
    expect(() => crossEntropy(logits, [rows, vocab], targets.map((t, i) => (i === 2 ? vocab : t)))).toThrow(/target 5 at position 2/);
  });
});
