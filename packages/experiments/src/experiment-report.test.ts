import type { MetricsRecord } from '@cs336/train';
import { reportPlots, smoothLosses, tableRow, type VariantSummary } from './experiment-report.js';
import type { ExperimentRecord } from './experiment-runner.js';
import { DEFAULT_DIVERGENCE_RULE } from './divergence.js';
import { DEFAULT_SAMPLE } from './experiment-spec.js';

const record: ExperimentRecord = { name: 'x', description: '', kind: 'lm', scale: 'tiny', sweep: 'batchSize', variants: ['b1', 'b4'], divergence: DEFAULT_DIVERGENCE_RULE, sample: DEFAULT_SAMPLE };

function variant(name: string, batch: number, steps: number, diverged = false): VariantSummary {
  const records: MetricsRecord[] = Array.from({ length: steps }, (_, i) => ({
    step: i + 1, tokensSeen: (i + 1) * batch * 8, trainLoss: 5 - i * 0.1, lr: 1e-3, gradNorm: 1, tokensPerSecond: 100 + i, wallTime: i + 1,
    ...((i + 1) % 2 === 0 ? { valLoss: 5 - i * 0.1 } : {}),
  }));
  return { name, differs: { batchSize: batch }, status: diverged ? { state: 'diverged', step: steps, steps, divergedAt: steps, reason: 'r' } : { state: 'done', step: steps, steps }, records, steps, finalValLoss: 1, bestValLoss: 1, tokensPerSecond: 101, wallTime: steps };
}

const series = (svg: string) => [...svg.matchAll(/<polyline [^>]*data-series="([^"]+)"/g)].map((m) => m[1]);

describe('report plots', () => {
  it('adds a loss-vs-tokens panel when variants differ in tokens per step, and only then', () => {
    const mixed = reportPlots(record, [variant('b1', 1, 8), variant('b4', 4, 2)]).find((p) => p.name === 'validation-loss')!.svg;
    expect(mixed).toContain('vs tokens seen');
    expect(series(mixed)).toEqual(['b1', 'b4', 'b1', 'b4', 'b1', 'b4']);
    const same = reportPlots(record, [variant('b1', 4, 8), variant('b4', 4, 2)]).find((p) => p.name === 'validation-loss')!.svg;
    expect(same).not.toContain('vs tokens seen');
    expect(series(same)).toEqual(['b1', 'b4', 'b1', 'b4']);
  });

  it('draws the sweep plot with one point per variant at the swept value, and marks a diverged variant', () => {
    const plots = reportPlots(record, [variant('b1', 1, 8), variant('b4', 4, 2, true)]);
    const sweep = plots.find((p) => p.name === 'sweep')!.svg;
    expect(series(sweep)).toEqual(['b1', 'b4']);
    expect(sweep).toContain('class="diverged-marker" data-series="b4"');
    expect(sweep).not.toContain('(log scale)'); // batch size is not a learning rate
  });

  it('smooths with a debiased EMA and formats the table row from the summary', () => {
    expect(smoothLosses([4, 4, 4])).toEqual([4, 4, 4].map((x) => expect.closeTo(x, 12)));
    const s = smoothLosses([10, 0]);
    expect(s[1]).toBeCloseTo((0.9 * 0.1 * 10) / (1 - 0.81), 12);
    expect(tableRow(variant('b4', 4, 2, true))).toEqual(['b4 ✕', 'batchSize=4', 'diverged', '2', '1.0000', '1.0000', '101', '2.0', '2']);
  });
});
