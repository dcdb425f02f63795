import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readMetrics } from '@cs336/train';
import { runSgdToy } from './sgd-toy.js';

describe('the SGD toy', () => {
  it('follows the closed form: the loss after step t is the loss before times (1 − 2·lr/(100·√(t+1)))²', () => {
    for (const lr of [10, 100, 1000]) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sgd-toy-'));
      const records = runSgdToy(dir, { lr, steps: 10, seed: 0 }, () => {});
      expect(records).toHaveLength(10);
      expect(records[0]!.trainLoss).toBeGreaterThan(10); // 5·N(0,1) entries: mean square near 25
      for (const [t, r] of records.entries()) {
        const factor = 1 - (2 * lr) / (100 * Math.sqrt(t + 1));
        expect(r.valLoss! / r.trainLoss!).toBeCloseTo(factor * factor, 10);
        if (t > 0) expect(r.trainLoss!).toBe(records[t - 1]!.valLoss);
        expect(r.lr).toBeCloseTo(lr / Math.sqrt(t + 1), 12);
      }
      expect(readMetrics(path.join(dir, 'metrics.jsonl'))).toEqual(records);
      fs.rmSync(dir, { recursive: true });
      if (lr === 10) expect(records.at(-1)!.valLoss!).toBeLessThan(records[0]!.trainLoss!);
      if (lr === 1000) expect(records.at(-1)!.valLoss!).toBeGreaterThan(1e10 * records[0]!.trainLoss!);
    }
  });
  it('stops when the step hook says so (the runner\'s divergence check)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sgd-toy-'));
    expect(runSgdToy(dir, { lr: 1000, steps: 10, seed: 0 }, (r) => r.step < 3)).toHaveLength(3);
    fs.rmSync(dir, { recursive: true });
  });
});
