/**
 * The loss curve, drawn as a hand-written SVG (train and validation loss against steps and against
 * wall time, side by side) and rasterized to PNG with resvg. Written next to metrics.jsonl.
 */
import { Resvg } from '@resvg/resvg-js';
import path from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import type { MetricsRecord } from './metrics.js';

export const TRAIN_COLOR = '#1f77b4';
export const VALIDATION_COLOR = '#ff7f0e';
const PANEL = { width: 480, height: 360, left: 64, right: 16, top: 36, bottom: 48 };

interface Series { points: Array<[number, number]>; color: string; label: string; markers: boolean }

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

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function panel(offsetX: number, title: string, xLabel: string, series: Series[]): string {
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const xMin = Math.min(0, ...xs);
  const xMax = Math.max(xMin + 1e-9, ...xs);
  const yMin = ys.length ? Math.min(...ys) : 0;
  const yMax = ys.length ? Math.max(...ys) : 1;
  const pad = (yMax - yMin) * 0.05 || 0.5;
  const [y0, y1] = [yMin - pad, yMax + pad];
  const plotW = PANEL.width - PANEL.left - PANEL.right;
  const plotH = PANEL.height - PANEL.top - PANEL.bottom;
  const sx = (x: number) => offsetX + PANEL.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const sy = (y: number) => PANEL.top + (1 - (y - y0) / (y1 - y0)) * plotH;
  const f = (n: number) => n.toFixed(2);
  const parts: string[] = [];
  parts.push(`<text x="${f(offsetX + PANEL.width / 2)}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`);
  parts.push(`<rect x="${f(offsetX + PANEL.left)}" y="${PANEL.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#444"/>`);
  for (const t of niceTicks(xMin, xMax)) {
    parts.push(`<line x1="${f(sx(t))}" y1="${PANEL.top + plotH}" x2="${f(sx(t))}" y2="${PANEL.top + plotH + 4}" stroke="#444"/>`);
    parts.push(`<text x="${f(sx(t))}" y="${PANEL.top + plotH + 16}" text-anchor="middle" font-size="10">${t}</text>`);
  }
  for (const t of niceTicks(y0, y1, 8)) {
    parts.push(`<line x1="${f(offsetX + PANEL.left)}" y1="${f(sy(t))}" x2="${f(offsetX + PANEL.left + plotW)}" y2="${f(sy(t))}" stroke="#ddd"/>`);
    parts.push(`<text x="${f(offsetX + PANEL.left - 6)}" y="${f(sy(t) + 3)}" text-anchor="end" font-size="10">${t}</text>`);
  }
  parts.push(`<text x="${f(offsetX + PANEL.left + plotW / 2)}" y="${PANEL.height - 10}" text-anchor="middle" font-size="12">${escapeXml(xLabel)}</text>`);
  parts.push(`<text transform="translate(${f(offsetX + 14)} ${f(PANEL.top + plotH / 2)}) rotate(-90)" text-anchor="middle" font-size="12">loss</text>`);
  series.forEach((s, i) => {
    const points = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (points.length > 0) {
      parts.push(`<polyline class="${s.label}" fill="none" stroke="${s.color}" stroke-width="2" points="${points.map(([x, y]) => `${f(sx(x))},${f(sy(y))}`).join(' ')}"/>`);
      if (s.markers) for (const [x, y] of points) parts.push(`<circle cx="${f(sx(x))}" cy="${f(sy(y))}" r="3" fill="${s.color}"/>`);
    }
    const ly = PANEL.top + 14 + i * 16;
    parts.push(`<line x1="${f(offsetX + PANEL.left + plotW - 90)}" y1="${ly}" x2="${f(offsetX + PANEL.left + plotW - 70)}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`);
    parts.push(`<text x="${f(offsetX + PANEL.left + plotW - 64)}" y="${ly + 4}" font-size="11">${s.label}</text>`);
  });
  return parts.join('\n');
}

/** Two panels: loss vs step and loss vs wall time; train loss as a line, validation loss as line + dots. */
export function renderLossCurveSvg(records: readonly MetricsRecord[], title = 'loss'): string {
  const validation = records.filter((r) => r.valLoss !== undefined);
  const training = records.filter((r) => r.trainLoss !== undefined); // not the step-0 evaluation
  const byStep: Series[] = [
    { points: training.map((r) => [r.step, r.trainLoss!]), color: TRAIN_COLOR, label: 'train', markers: false },
    { points: validation.map((r) => [r.step, r.valLoss!]), color: VALIDATION_COLOR, label: 'validation', markers: true },
  ];
  const byTime: Series[] = [
    { points: training.map((r) => [r.wallTime, r.trainLoss!]), color: TRAIN_COLOR, label: 'train', markers: false },
    { points: validation.map((r) => [r.wallTime, r.valLoss!]), color: VALIDATION_COLOR, label: 'validation', markers: true },
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${PANEL.width * 2}" height="${PANEL.height}" viewBox="0 0 ${PANEL.width * 2} ${PANEL.height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    panel(0, `${title} vs step`, 'step', byStep),
    panel(PANEL.width, `${title} vs wall time`, 'wall time (s)', byTime),
    '</svg>',
  ].join('\n');
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
