/**
 * The loss curve, drawn as a hand-written SVG (train and validation loss against steps and against
 * wall time, side by side) and rasterized to PNG with resvg. Written next to metrics.jsonl.
 * renderPanelsSvg is the general form (any panels of any series, log x, diverged runs dashed with an
 * ✕): the experiment report draws its overlaid curves with it.
 */
import { Resvg } from '@resvg/resvg-js';
import path from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import type { MetricsRecord } from './metrics.js';

export const TRAIN_COLOR = '#1f77b4';
export const VALIDATION_COLOR = '#ff7f0e';
const PANEL = { width: 480, height: 360, left: 64, right: 16, top: 36, bottom: 48 };
/** Beyond two series the legend goes to the right of the plot (it would cover lines inside), widening the panel. */
const LEGEND_OUTSIDE = { minSeries: 3, width: 170 };

function panelWidth(spec: PlotPanel): number {
  return PANEL.width + (spec.series.length >= LEGEND_OUTSIDE.minSeries ? LEGEND_OUTSIDE.width : 0);
}

/** One line of a panel. */
export interface PlotSeries {
  label: string;
  color: string;
  points: Array<[number, number]>;
  /** A dot at every point (sparse series such as validation loss). */
  markers?: boolean;
  /** Drawn dashed with an ✕ at its last point: a run that diverged. */
  diverged?: boolean;
}

/** One chart: a titled, framed plot with its own axes and legend. */
export interface PlotPanel {
  title: string;
  xLabel: string;
  yLabel?: string;
  series: PlotSeries[];
  /** Log-scale x axis (learning rates); points with x ≤ 0 are left out. */
  logX?: boolean;
  /** Log-scale y axis (losses over many decades, as in the SGD toy); points with y ≤ 0 are left out. */
  logY?: boolean;
  /** A line under the legend, e.g. what the ✕ means. */
  note?: string;
}

/** Round numbers for axis ticks between lo and hi (about `count` of them). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Powers of ten covering [lo, hi] (both > 0), for a log axis: every decade, or every k-th when there are many. */
export function logTicks(lo: number, hi: number, count = 8): number[] {
  const [from, to] = [Math.floor(Math.log10(lo)), Math.ceil(Math.log10(hi))];
  const stride = Math.max(1, Math.ceil((to - from) / count));
  const ticks: number[] = [];
  for (let e = Math.ceil(from / stride) * stride; e <= to; e += stride) ticks.push(Number((10 ** e).toPrecision(12)));
  return ticks;
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function panel(offsetX: number, spec: PlotPanel): string {
  const { title, xLabel, series, logX = false, logY = false } = spec;
  const usable = ([x, y]: [number, number]) => Number.isFinite(x) && Number.isFinite(y) && (!logX || x > 0) && (!logY || y > 0);
  const all = series.flatMap((s) => s.points).filter(usable);
  const tx = (x: number) => (logX ? Math.log10(x) : x);
  const ty = (y: number) => (logY ? Math.log10(y) : y);
  const xs = all.map(([x]) => tx(x));
  const ys = all.map(([, y]) => ty(y));
  const xMin = logX ? Math.min(...xs) - 0.25 : Math.min(0, ...xs);
  const xMax = Math.max(xMin + 1e-9, ...xs) + (logX ? 0.25 : 0);
  const yMin = ys.length ? Math.min(...ys) : 0;
  const yMax = ys.length ? Math.max(...ys) : 1;
  const pad = (yMax - yMin) * 0.05 || 0.5;
  const [y0, y1] = [yMin - pad, yMax + pad];
  const plotW = PANEL.width - PANEL.left - PANEL.right;
  const plotH = PANEL.height - PANEL.top - PANEL.bottom;
  const sx = (x: number) => offsetX + PANEL.left + ((tx(x) - xMin) / (xMax - xMin)) * plotW;
  const sy = (y: number) => PANEL.top + (1 - (ty(y) - y0) / (y1 - y0)) * plotH;
  const f = (n: number) => n.toFixed(2);
  const parts: string[] = [];
  parts.push(`<text x="${f(offsetX + PANEL.left + plotW / 2)}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`);
  parts.push(`<rect x="${f(offsetX + PANEL.left)}" y="${PANEL.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#444"/>`);
  const xTicks = logX ? (all.length ? logTicks(10 ** xMin, 10 ** xMax).filter((t) => tx(t) >= xMin && tx(t) <= xMax) : []) : niceTicks(xMin, xMax);
  for (const t of xTicks) {
    parts.push(`<line x1="${f(sx(t))}" y1="${PANEL.top + plotH}" x2="${f(sx(t))}" y2="${PANEL.top + plotH + 4}" stroke="#444"/>`);
    parts.push(`<text x="${f(sx(t))}" y="${PANEL.top + plotH + 16}" text-anchor="middle" font-size="10">${logX ? t.toExponential(0) : t}</text>`);
  }
  const yTicks = logY ? (all.length ? logTicks(10 ** y0, 10 ** y1).filter((t) => ty(t) >= y0 && ty(t) <= y1) : []) : niceTicks(y0, y1, 8);
  for (const t of yTicks) {
    parts.push(`<line x1="${f(offsetX + PANEL.left)}" y1="${f(sy(t))}" x2="${f(offsetX + PANEL.left + plotW)}" y2="${f(sy(t))}" stroke="#ddd"/>`);
    parts.push(`<text x="${f(offsetX + PANEL.left - 6)}" y="${f(sy(t) + 3)}" text-anchor="end" font-size="10">${logY ? t.toExponential(0) : t}</text>`);
  }
  parts.push(`<text x="${f(offsetX + PANEL.left + plotW / 2)}" y="${PANEL.height - 10}" text-anchor="middle" font-size="12">${escapeXml(xLabel)}</text>`);
  parts.push(`<text transform="translate(${f(offsetX + 14)} ${f(PANEL.top + plotH / 2)}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(spec.yLabel ?? 'loss')}</text>`);
  const legendX = panelWidth(spec) > PANEL.width ? offsetX + PANEL.left + plotW + 12 : offsetX + PANEL.left + plotW - 130;
  series.forEach((s, i) => {
    const points = s.points.filter(usable);
    const label = escapeXml(s.label);
    const dash = s.diverged ? ' stroke-dasharray="6 4"' : '';
    const data = ` data-series="${label}"${s.diverged ? ' data-diverged="true"' : ''}`;
    if (points.length > 0) {
      parts.push(`<polyline class="${label}"${data} fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${points.map(([x, y]) => `${f(sx(x))},${f(sy(y))}`).join(' ')}"/>`);
      if (s.markers) for (const [x, y] of points) parts.push(`<circle cx="${f(sx(x))}" cy="${f(sy(y))}" r="3" fill="${s.color}"/>`);
      if (s.diverged) {
        const [x, y] = points.at(-1)!;
        const [cx, cy, r] = [sx(x), sy(y), 6];
        parts.push(`<path class="diverged-marker" data-series="${label}" d="M${f(cx - r)},${f(cy - r)} L${f(cx + r)},${f(cy + r)} M${f(cx - r)},${f(cy + r)} L${f(cx + r)},${f(cy - r)}" stroke="${s.color}" stroke-width="3"/>`);
      }
    }
    const ly = PANEL.top + 14 + i * 16;
    parts.push(`<line x1="${f(legendX)}" y1="${ly}" x2="${f(legendX + 20)}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${f(legendX + 26)}" y="${ly + 4}" font-size="11">${label}${s.diverged ? ' ✕ diverged' : ''}</text>`);
  });
  if (spec.note) parts.push(`<text x="${f(legendX)}" y="${PANEL.top + 14 + series.length * 16 + 4}" font-size="10" fill="#555">${escapeXml(spec.note)}</text>`);
  return parts.join('\n');
}

/** Panels side by side in one SVG, each PANEL.width wide (plus the legend's width when it is outside). */
export function renderPanelsSvg(panels: readonly PlotPanel[]): string {
  const offsets = panels.map((_, i) => panels.slice(0, i).reduce((x, p) => x + panelWidth(p), 0));
  const width = panels.reduce((x, p) => x + panelWidth(p), 0);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${PANEL.height}" viewBox="0 0 ${width} ${PANEL.height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels.map((p, i) => panel(offsets[i]!, p)),
    '</svg>',
  ].join('\n');
}

/** Two panels: loss vs step and loss vs wall time; train loss as a line, validation loss as line + dots. */
export function renderLossCurveSvg(records: readonly MetricsRecord[], title = 'loss'): string {
  const validation = records.filter((r) => r.valLoss !== undefined);
  const training = records.filter((r) => r.trainLoss !== undefined); // not the step-0 evaluation
  const byStep: PlotSeries[] = [
    { points: training.map((r) => [r.step, r.trainLoss!]), color: TRAIN_COLOR, label: 'train' },
    { points: validation.map((r) => [r.step, r.valLoss!]), color: VALIDATION_COLOR, label: 'validation', markers: true },
  ];
  const byTime: PlotSeries[] = [
    { points: training.map((r) => [r.wallTime, r.trainLoss!]), color: TRAIN_COLOR, label: 'train' },
    { points: validation.map((r) => [r.wallTime, r.valLoss!]), color: VALIDATION_COLOR, label: 'validation', markers: true },
  ];
  return renderPanelsSvg([
    { title: `${title} vs step`, xLabel: 'step', series: byStep },
    { title: `${title} vs wall time`, xLabel: 'wall time (s)', series: byTime },
  ]);
}

export function renderPng(svg: string): Uint8Array {
  return new Resvg(svg, { background: 'white' }).render().asPng();
}

/** Writes loss-curve.svg and loss-curve.png into `dir`; returns their paths. */
export function writeLossCurve(dir: string, records: readonly MetricsRecord[], title?: string): { svg: string; png: string } {
  const svg = renderLossCurveSvg(records, title);
  const files = { svg: path.join(dir, 'loss-curve.svg'), png: path.join(dir, 'loss-curve.png') };
  writeFileAtomic(files.svg, svg);
  writeFileAtomic(files.png, renderPng(svg));
  return files;
}
