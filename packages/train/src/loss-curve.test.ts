import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { TRAIN_COLOR, VALIDATION_COLOR, logTicks, niceTicks, renderLossCurveSvg, renderPanelsSvg, writeLossCurve } from './loss-curve.js';
import type { MetricsRecord } from './metrics.js';

const records: MetricsRecord[] = Array.from({ length: 20 }, (_, i) => ({
  step: i + 1, tokensSeen: (i + 1) * 64, trainLoss: 5 - i * 0.2, lr: 1e-3, gradNorm: 1, tokensPerSecond: 100, wallTime: (i + 1) * 0.5,
  ...(i % 5 === 4 ? { valLoss: 5.1 - i * 0.2 } : {}),
}));


describe('loss curve', () => {
  it('niceTicks picks round steps that cover the range', () => {
    expect(niceTicks(0, 10)).toEqual([0, 2, 4, 6, 8, 10]);
    // range/5 = 0.128 → the next round step is 0.2.
    expect(niceTicks(1.23, 1.87)).toEqual([1.4, 1.6, 1.8]);
  });

  it('draws every train step and every validation point, in both panels, with higher loss higher up', () => {
    const svg = renderLossCurveSvg(records);
    const lines = [...svg.matchAll(/<polyline class="(\w+)"[^>]*points="([^"]+)"/g)];
    expect(lines.map((m) => m[1])).toEqual(['train', 'validation', 'train', 'validation']);
    const trainPoints = lines[0]![2]!.split(' ').map((p) => p.split(',').map(Number) as [number, number]);
    expect(trainPoints).toHaveLength(20);
    expect(lines[1]![2]!.split(' ')).toHaveLength(4);
    // SVG y grows downward: the loss falls, so y must grow along the line; x grows with the step.
    for (let i = 1; i < trainPoints.length; i++) {
      expect(trainPoints[i]![0]).toBeGreaterThan(trainPoints[i - 1]![0]);
      expect(trainPoints[i]![1]).toBeGreaterThan(trainPoints[i - 1]![1]);
    }
  });

  it('starts the validation line at the step-0 record and leaves that record out of the train line', () => {
    const withStepZero: MetricsRecord[] = [{ step: 0, tokensSeen: 0, valLoss: 5.4, wallTime: 0 }, ...records];
    const lines = [...renderLossCurveSvg(withStepZero).matchAll(/<polyline class="(\w+)"[^>]*points="([^"]+)"/g)];
    expect(lines[0]![2]!.split(' ')).toHaveLength(20);
    const validation = lines[1]![2]!.split(' ').map((p) => p.split(',').map(Number) as [number, number]);
    expect(validation).toHaveLength(5);
    const trainFirstX = Number(lines[0]![2]!.split(' ')[0]!.split(',')[0]);
    expect(validation[0]![0]).toBeLessThan(trainFirstX); // x of step 0 is left of step 1
    expect(validation[0]![1]).toBeLessThan(validation[1]![1]); // and its loss is the highest (smallest y)
  });

  it('rasterizes with the train and validation colours present in the pixels', () => {
    const rendered = new Resvg(renderLossCurveSvg(records), { background: 'white' }).render();
    const rgba = rendered.pixels;
    const has = (hex: string) => {
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      for (let i = 0; i < rgba.length; i += 4) if (rgba[i] === r && rgba[i + 1] === g && rgba[i + 2] === b) return true;
      return false;
    };
    expect(rendered.width).toBe(960);
    expect(has(TRAIN_COLOR)).toBe(true);
    expect(has(VALIDATION_COLOR)).toBe(true);
  });

  it('writes loss-curve.svg and a PNG file next to the metrics', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-curve-'));
    const files = writeLossCurve(dir, records);
    expect(fs.readFileSync(files.svg, 'utf8')).toMatch(/^<svg/);
    expect([...fs.readFileSync(files.png).subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    fs.rmSync(dir, { recursive: true });
  });

  it('logTicks gives powers of ten, thinned to about `count` when the range spans many decades', () => {
    expect(logTicks(3e-4, 2)).toEqual([1e-4, 1e-3, 1e-2, 1e-1, 1, 10]);
    // 48 decades / 8 → every 6th power, on multiples of 6.
    expect(logTicks(1e-40, 1e8, 8)).toEqual([1e-36, 1e-30, 1e-24, 1e-18, 1e-12, 1e-6, 1, 1e6]);
  });

  it('renderPanelsSvg: equal ratios are equal distances on a log axis; a diverged series is dashed and ends in an ✕', () => {
    const svg = renderPanelsSvg([{ title: 't', xLabel: 'lr', logX: true, series: [
      { label: 'ok', color: '#000000', points: [[1e-3, 5], [1e-2, 4], [1e-1, 3]] },
      { label: 'bad', color: '#ff0000', points: [[1, 9]], diverged: true },
    ] }]);
    const ok = /<polyline class="ok" data-series="ok" [^>]*points="([^"]+)"/.exec(svg)![1]!.split(' ').map((p) => Number(p.split(',')[0]));
    expect(ok[1]! - ok[0]!).toBeCloseTo(ok[2]! - ok[1]!, 1);
    expect(svg).toMatch(/<polyline class="bad" data-series="bad" data-diverged="true" [^>]*stroke-dasharray/);
    expect(svg).toContain('<path class="diverged-marker" data-series="bad"');
    expect(svg).not.toMatch(/data-series="ok"[^>]*stroke-dasharray/);
    expect(svg).toContain('bad ✕ diverged');
  });
});
