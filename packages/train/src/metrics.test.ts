import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MetricsLog, readMetrics, type MetricsRecord } from './metrics.js';

const record = (step: number): MetricsRecord => ({ step, tokensSeen: step * 10, trainLoss: 1 / step, lr: 1e-3, gradNorm: 0.5, tokensPerSecond: 1000, wallTime: step });

describe('MetricsLog', () => {
  it('appends JSON lines, skips a torn last line, and cuts back to the resume step', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metrics-'));
    const file = path.join(dir, 'metrics.jsonl');
    const log = new MetricsLog(file, -1);
    for (let s = 1; s <= 5; s++) log.append(record(s));
    fs.appendFileSync(file, '{"step": 6, "tokensSe'); // a crash mid-append
    expect(readMetrics(file).map((r) => r.step)).toEqual([1, 2, 3, 4, 5]);
    const resumed = new MetricsLog(file, 3);
    expect(resumed.records.map((r) => r.step)).toEqual([1, 2, 3]);
    resumed.append(record(4));
    expect(readMetrics(file)).toEqual([1, 2, 3, 4].map(record));
    expect(new MetricsLog(file, -1).records).toEqual([]); // a fresh run starts an empty log
    fs.rmSync(dir, { recursive: true });
  });

  it('keeps the step-0 evaluation record when a run resumes at a later step', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metrics-'));
    const file = path.join(dir, 'metrics.jsonl');
    const log = new MetricsLog(file, -1);
    const stepZero: MetricsRecord = { step: 0, tokensSeen: 0, valLoss: 2.5, wallTime: 0 };
    log.append(stepZero);
    for (let s = 1; s <= 4; s++) log.append(record(s));
    expect(new MetricsLog(file, 2).records).toEqual([stepZero, record(1), record(2)]);
    expect(new MetricsLog(file, -1).records).toEqual([]); // a fresh run (or a resume at step 0) evaluates step 0 again
    fs.rmSync(dir, { recursive: true });
  });
});
