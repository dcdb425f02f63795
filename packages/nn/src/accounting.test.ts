import { ADAMW_FLOPS_PER_PARAMETER, GPT2_PRESETS, accounting, adamwMemory, adamwStepFlops, flopShares, modelFlopsUtilization, resourceReport, trainingTime } from './accounting.js';
import { GraphBuilder, type GraphNode } from '@cs336/graph';
import { createParameterValues } from './parameter-values.js';
import { transformerParameters } from './parameters.js';
import { resolveTransformerConfig, type TransformerConfig } from './transformer-config.js';
import { transformerLm } from './transformer-lm.js';

/** 2·(batch)·m·k·n for every MatMul node, read off the node's static input shapes. */
function matMulFlops(nodes: readonly GraphNode[]): number {
  let total = 0;
  for (const node of nodes.filter((n) => n.opType === 'MatMul')) {
    const [a, b] = node.inputs.map((v) => v.shape as number[]) as [number[], number[]];
    expect([...a, ...b].every((d) => typeof d === 'number')).toBe(true);
    const batch = node.outputs[0]!.shape.slice(0, -2).reduce((p: number, d) => p * (d as number), 1);
    total += 2 * batch * a[a.length - 2]! * a[a.length - 1]! * b[b.length - 1]!;
  }
  return total;
}

function buildLm(config: TransformerConfig, batch: number, t: number): GraphBuilder {
  const g = new GraphBuilder('lm');
  const params = createParameterValues(g, transformerParameters(config), 'float32');
  g.output(transformerLm(g.input('ids', 'int64', [batch, t]), params, config), 'logits');
  return g;
}

describe('accounting', () => {
  it("reproduces the handout's GPT-2 XL figures", () => {
    const xl = accounting(GPT2_PRESETS.xl, { batchSize: 1 });
    // Written out from the architecture the handout describes (V 50,257, T 1,024, L 48, d 1,600, dFf 6,400):
    // two embeddings, 48 × (four d×d attention projections + two d×dFf FFN matrices + two gains), final gain, untied head.
    const expected = 50_257 * 1600 + 1024 * 1600 + 48 * (4 * 1600 ** 2 + 2 * 1600 * 6400 + 2 * 1600) + 1600 + 50_257 * 1600;
    expect(xl.parameters.total).toBe(expected);
    expect(xl.parameters.total).toBe(1_637_176_000); // ≈ 1.64 B parameters, 6.5 GB in float32
    expect(xl.memoryBytes.parameters / 1e9).toBeCloseTo(6.55, 2);
    // Forward matmul FLOPs for one 1,024-token sequence: ≈ 3.5 TFLOPs, FFN the largest share.
    const f = xl.forwardFlopsPerSequence;
    expect(f.total / 1e12).toBeCloseTo(3.51, 2);
    expect(f.feedForward).toBe(48 * 2 * (2 * 1024 * 1600 * 6400)); // two d×dFf products per layer
    expect(f.feedForward / f.total).toBeCloseTo(0.574, 3);
    expect(f.qkvProjections + f.outputProjection).toBeCloseTo((f.feedForward * 8 * 1600 ** 2) / (4 * 1600 * 6400), 0);
    expect(f.lmHead).toBe(2 * 1024 * 1600 * 50_257);
    expect(xl.flopsPerToken.backward).toBe(2 * xl.flopsPerToken.forward);
  });

  it('FFN share of FLOPs grows with model size across the GPT-2 presets', () => {
    const shares = (['small', 'medium', 'large', 'xl'] as const).map((p) => {
      const f = accounting(GPT2_PRESETS[p], { batchSize: 1 }).forwardFlopsPerSequence;
      return f.feedForward / f.total;
    });
    for (let i = 1; i < shares.length; i++) expect(shares[i]).toBeGreaterThan(shares[i - 1]!);
    expect(accounting(GPT2_PRESETS.small, { batchSize: 1 }).parameters.total).toBe(
      2 * 50_257 * 768 + 1024 * 768 + 12 * (12 * 768 ** 2 + 2 * 768) + 768,
    );
  });

  it('counts AdamW memory as 16 bytes per parameter plus activations', () => {
    const config = resolveTransformerConfig({ vocabSize: 100, contextLength: 16, dModel: 32, numLayers: 2, numHeads: 4, dFf: 64 });
    const a = accounting(config, { batchSize: 3 });
    expect(a.memoryBytes.total - a.memoryBytes.activations).toBe(16 * a.parameters.total);
    // Activations are linear in the batch size.
    expect(accounting(config, { batchSize: 6 }).activationElements).toBe(2 * a.activationElements);
    expect(() => accounting(config, { batchSize: 1, seqLen: 17 })).toThrow(/seqLen must be an integer in \[1, contextLength 16\], got 17/);
  });

  it.each([
    ['untied', {}],
    ['tied, post-norm', { tieEmbeddings: true, norm: 'post' as const }],
    ['no norm, parallel', { norm: 'none' as const, parallel: true }],
  ])('agrees with the graph actually built (%s): parameter count and MatMul FLOPs', (_name, overrides) => {
    const config = resolveTransformerConfig({ vocabSize: 97, contextLength: 24, dModel: 32, numLayers: 3, numHeads: 4, dFf: 80, ...overrides });
    const g = buildLm(config, 1, 24);
    const graphParameters = g.parameters.reduce((total, p) => total + (p.shape as number[]).reduce((a, b) => a * b, 1), 0);
    const a = accounting(config, { batchSize: 1 });
    expect(a.parameters.total).toBe(graphParameters);
    expect(a.forwardFlopsPerSequence.total).toBe(matMulFlops(g.nodes));
    // A batch of 3 costs three sequences' worth.
    expect(matMulFlops(buildLm(config, 3, 24).nodes)).toBe(3 * a.forwardFlopsPerSequence.total);
  });
});

/**
 * The handout's accounting questions for GPT-2 XL, with every expected number written out here from the
 * architecture (2·m·n·p FLOPs per (m×n)·(n×p) product; float32 = 4 bytes) rather than read from the code.
 */
describe("the handout's resource accounting, derived in the test", () => {
  const [V, T, L, d, h, dFf] = [50_257, 1024, 48, 1600, 25, 6400];
  const params = V * d + T * d + L * (4 * d * d + 2 * d * dFf + 2 * d) + d + d * V;
  // Forward matmuls of one T-token sequence: per layer Q, K, V and output (T×d)(d×d), scores (T×dk)(dk×T) over
  // h heads = 2·T·T·d, weighted values the same, FFN (T×d)(d×dFf) and (T×dFf)(dFf×d); then the head (T×d)(d×V).
  const perLayer = { qkv: 3 * 2 * T * d * d, scores: 2 * T * T * d, values: 2 * T * T * d, out: 2 * T * d * d, ffn: 2 * T * d * dFf + 2 * T * dFf * d };
  const head = 2 * T * d * V;
  const forward = L * (perLayer.qkv + perLayer.scores + perLayer.values + perLayer.out + perLayer.ffn) + head;

  it('parameters and forward FLOPs of GPT-2 XL (the 2024 GELU architecture: 1.64 B, not the SwiGLU 2.13 B)', () => {
    const a = accounting(GPT2_PRESETS.xl, { batchSize: 1 });
    expect(a.parameters.total).toBe(params);
    expect(params / 1e9).toBeCloseTo(1.637, 3);
    // A SwiGLU FFN (three d×dFf matrices) and no position table, the 2025 handout's model, would be 2.13 B.
    expect((V * d + L * (4 * d * d + 3 * d * dFf + 2 * d) + d + d * V) / 1e9).toBeCloseTo(2.127, 3);
    const f = a.forwardFlopsPerSequence;
    expect(f.total).toBe(forward);
    expect(forward / 1e12).toBeCloseTo(3.51, 2);
    const shares = flopShares(f);
    expect(shares.feedForward).toBeCloseTo((L * perLayer.ffn) / forward, 12);
    expect(shares.qkvProjections + shares.outputProjection).toBeCloseTo((L * (perLayer.qkv + perLayer.out)) / forward, 12);
    expect(shares.attentionScores + shares.attentionValues).toBeCloseTo((L * (perLayer.scores + perLayer.values)) / forward, 12);
    expect(shares.lmHead).toBeCloseTo(head / forward, 12);
    expect(Object.values(shares).reduce((x, y) => x + y, 0)).toBeCloseTo(1, 12);
  });

  it('at context 16,384 the attention scores and weighted values grow to the largest share', () => {
    const long = 16_384;
    const f = accounting({ ...GPT2_PRESETS.xl, contextLength: long }, { batchSize: 1 }).forwardFlopsPerSequence;
    const quadratic = L * 2 * (2 * long * long * d);
    const linear = L * (4 * 2 * long * d * d + 2 * 2 * long * d * dFf) + 2 * long * d * V;
    expect(f.total).toBe(quadratic + linear);
    expect(f.total / forward).toBeCloseTo((quadratic + linear) / forward, 12);
    expect((f.attentionScores + f.attentionValues) / f.total).toBeCloseTo(quadratic / (quadratic + linear), 12);
    expect(quadratic / (quadratic + linear)).toBeGreaterThan(0.6);
  });

  it('AdamW peak memory is 16 bytes per parameter plus activations linear in the batch; 3 sequences fit in 80 GB', () => {
    const perSequence = 4 * (L * (T * (2 * d + 3 * d + d + d + 2 * dFf + d) + 2 * h * T * T) + T * d + 2 * T * V);
    const memory = adamwMemory(GPT2_PRESETS.xl);
    expect(memory.fixedBytes).toBe(4 * (params + params + 2 * params));
    expect(memory.bytesPerSequence).toBe(perSequence);
    expect(memory.at(7)).toBe(16 * params + 7 * perSequence);
    const budget = 80e9;
    const largest = Math.floor((budget - 16 * params) / perSequence);
    expect(memory.maxBatchSize(budget)).toBe(largest);
    expect(largest).toBe(3);
    expect(16 * params + largest * perSequence).toBeLessThanOrEqual(budget);
    expect(16 * params + (largest + 1) * perSequence).toBeGreaterThan(budget);
  });

  it('one AdamW step and the days to train GPT-2 XL for 400k steps at batch 1024 on an A100 at 50% MFU', () => {
    const B = 1024;
    const step = adamwStepFlops(GPT2_PRESETS.xl, { batchSize: B });
    // Backward = 2× forward; the update is 14 elementwise operations a parameter.
    expect(step.forwardBackward).toBe(3 * B * forward);
    expect(step.optimizer).toBe(14 * params);
    expect(ADAMW_FLOPS_PER_PARAMETER).toBe(3 + 4 + 5 + 2);
    const days = (400_000 * (3 * B * forward + 14 * params)) / (0.5 * 19.5e12) / 86_400;
    const time = trainingTime(GPT2_PRESETS.xl, { steps: 400_000, batchSize: B, mfu: 0.5, peakFlopsPerSecond: 19.5e12 });
    expect(time.days).toBeCloseTo(days, 6);
    expect(time.days / 365).toBeCloseTo(14, 0); // about 5,100 days, 14 years
    expect(() => trainingTime(GPT2_PRESETS.xl, { steps: 1, batchSize: 1, mfu: 1.5, peakFlopsPerSecond: 1 })).toThrow(/mfu must be in \(0, 1\], got 1.5/);
  });

  it('MFU of a measured rate: tokens/s × 6·(matmul FLOPs per token) / peak', () => {
    const small = { vocabSize: 1000, contextLength: 64, dModel: 64, numLayers: 2, numHeads: 4, dFf: 256 };
    const perToken = 2 * (2 * (4 * 64 * 64 + 2 * 64 * 256 + 2 * 64 * 64) + 64 * 1000); // per-token forward: 2·params in matmuls + 2·T·d attention per layer
    const result = modelFlopsUtilization(small, { tokensPerSecond: 5000, peakFlopsPerSecond: 1e10 });
    expect(result.flopsPerToken).toBe(3 * perToken);
    expect(result.mfu).toBeCloseTo((5000 * 3 * perToken) / 1e10, 12);
  });
});

describe('resourceReport', () => {
  it('answers every question for one config: memory rows around the 80 GB limit, the presets by size, the long context', () => {
    const report = resourceReport(GPT2_PRESETS.xl);
    expect(report.memory.maxBatchSize).toBe(3);
    expect(report.memory.rows.map((r) => [r.batchSize, r.fits])).toEqual([[1, true], [3, true], [4, false], [1024, false]]);
    expect(report.bySize.map((s) => s.preset)).toEqual(['small', 'medium', 'large', 'xl']);
    // The LM head's share shrinks with size (it grows with d, the layers with L·d²); attention's T² part at 16k dominates.
    for (let i = 1; i < 4; i++) expect(report.bySize[i]!.shares.lmHead).toBeLessThan(report.bySize[i - 1]!.shares.lmHead);
    expect(report.longContext.parameters - report.parameters.total).toBe((16_384 - 1024) * 1600); // only the position table grows
    expect(report.longContext.shares.attentionScores).toBeGreaterThan(report.forward.shares.attentionScores);
    expect(report.training.days).toBeCloseTo(trainingTime(GPT2_PRESETS.xl, { steps: 400_000, batchSize: 1024, mfu: 0.5, peakFlopsPerSecond: 19.5e12 }).days, 9);
  });
});
