/**
 * compareRuns on real tiny runs trained in this process: the differing config fields are found from
 * the checkpoints, every table number is the one in that run's metrics.jsonl, and each run is one
 * series in the plots.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readMetrics, train } from '@cs336/train';
import { compareRuns, runLabels } from '../src/compare-runs.js';
import { writeTinyData } from './tiny-data.js';

const MODEL = { vocabSize: 300, contextLength: 16, dModel: 16, numLayers: 1, numHeads: 2, dFf: 32 };

describe('compareRuns', () => {
  let dir: string;
  let runs: string[];
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compare-'));
    const data = await writeTinyData(path.join(dir, 'data'));
    const base = {
      trainData: path.join(data, 'train.bin'), validationData: path.join(data, 'valid.bin'), steps: 12, stepsPerRun: 4, batchSize: 4,
      evalEvery: 4, evalBatches: 2, checkpointEvery: 4, warmupSteps: 2, maxLearningRate: 1e-2, minLearningRate: 1e-3, threads: 1, seed: 3,
    };
    runs = [path.join(dir, 'a', 'run'), path.join(dir, 'b', 'run'), path.join(dir, 'wide')];
    await train({ model: MODEL, train: { ...base, runDir: runs[0]! } });
    await train({ model: MODEL, train: { ...base, runDir: runs[1]!, maxLearningRate: 3e-3 } });
    await train({ model: { ...MODEL, dModel: 32 }, train: { ...base, runDir: runs[2]!, maxLearningRate: 3e-3 } });
  }, 120_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('labels runs by folder name, adding parents only where two are equal', () => {
    expect(runLabels(runs)).toEqual(['a/run', 'b/run', 'wide']);
    expect(runLabels(['/x/one', '/y/two'])).toEqual(['one', 'two']);
  });

  it('finds the fields the configs differ in and tabulates what metrics.jsonl says', () => {
    const out = path.join(dir, 'report');
    const result = compareRuns(runs, out);
    expect(result.differingFields).toEqual(['model.dModel', 'train.maxLearningRate']); // runDir is where, not what
    const table = fs.readFileSync(result.markdown, 'utf8').split('\n').filter((line) => /^\| (a\/run|b\/run|wide) \|/.test(line));
    expect(table).toHaveLength(3);
    runs.forEach((run, i) => {
      const records = readMetrics(path.join(run, 'metrics.jsonl'));
      const validation = records.filter((r) => r.valLoss !== undefined && r.step > 0).map((r) => r.valLoss!);
      const cells = table[i]!.slice(2, -2).split(' | ');
      expect(cells[2]).toBe('12 / 12');
      expect(Number(cells[3])).toBeCloseTo(validation.at(-1)!, 4);
      expect(Number(cells[4])).toBeCloseTo(Math.min(...validation), 4);
    });
    expect(table[0]).toContain('model.dModel=16, maxLearningRate=0.01');
    expect(table[2]).toContain('model.dModel=32, maxLearningRate=0.003');
    const svg = fs.readFileSync(result.plots[0]!.svg, 'utf8');
    expect(new Set([...svg.matchAll(/data-series="([^"]+)"/g)].map((m) => m[1]))).toEqual(new Set(['a/run', 'b/run', 'wide']));
    expect(fs.statSync(result.plots[0]!.png).size).toBeGreaterThan(1000);
    expect(fs.readFileSync(result.html, 'utf8')).toContain('<code>model.dModel</code>');
  });

  it('refuses a folder that is not a run, or repeated names, before writing anything', () => {
    const out = path.join(dir, 'nothing');
    expect(() => compareRuns([runs[0]!, path.join(dir, 'data')], out)).toThrow(/data is not a training run: it has no metrics\.jsonl/);
    expect(() => compareRuns(runs.slice(0, 2), out, { names: ['x', 'x'] })).toThrow(/run names repeat: x, x/);
    expect(fs.existsSync(out)).toBe(false);
  });
});
