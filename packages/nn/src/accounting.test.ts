import { GPT2_PRESETS, accounting } from './accounting.js';
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
