/**
 * `cs336 experiment` as the real CLI in a child process (workspace packages from their sources):
 * usage errors exit 2 before anything runs; the SGD toy runs end to end, diverging at lr 1e3; the
 * report command redraws its report.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(here, '../cli.ts');
const CHILD_TSCONFIG = path.join(here, '../../../../packages/train/test/tsconfig.child.json');

function cs336(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TSX_TSCONFIG_PATH: CHILD_TSCONFIG } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('cs336 experiment', () => {
  let dir: string;
  beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-experiment-')); });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('exits 2 on bad usage, an unknown scale, a missing --data, or a spec with an unknown override key, and creates nothing', async () => {
    expect((await cs336(['experiment', 'run'])).code).toBe(2);
    const scale = await cs336(['experiment', 'run', 'lr-sweep', '--scale', 'huge', '--out', dir]);
    expect([scale.code, scale.stderr]).toEqual([2, expect.stringContaining('--scale must be one of tiny, cpu, handout')]);
    const noData = await cs336(['experiment', 'run', 'lr-sweep', '--out', dir]);
    expect([noData.code, noData.stderr]).toEqual([2, expect.stringContaining('give --data DIR')]);
    const spec = path.join(dir, 'typo.json');
    fs.writeFileSync(spec, JSON.stringify({ name: 'typo', kind: 'sgd-toy', base: { steps: 3, warmupSteps: 0, minLearningRate: 0 }, variants: { a: { maxLearningRat: 1 } }, scales: { tiny: {}, cpu: {}, handout: {} } }));
    const typo = await cs336(['experiment', 'run', spec, '--scale', 'tiny', '--out', dir]);
    expect([typo.code, typo.stderr]).toEqual([2, expect.stringMatching(/variant "a".*unknown option --maxLearningRat/)]);
    expect(fs.existsSync(path.join(dir, 'typo'))).toBe(false);
    expect((await cs336(['experiment', 'report', path.join(dir, 'nothing')])).code).toBe(1);
  });

  it('runs the SGD toy end to end (lr 1e3 diverges), lists the specs, and redraws a report', async () => {
    const run = await cs336(['experiment', 'run', 'sgd-toy', '--scale', 'tiny', '--out', dir]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('experiment sgd-toy: 2 done, 1 diverged, 0 failed');
    expect(run.stderr).toMatch(/\[3\/3\] lr-1e3: diverged at step \d+/);
    const report = path.join(dir, 'sgd-toy', 'report.md');
    expect(fs.readFileSync(report, 'utf8')).toContain('| lr-1e3 ✕ |');
    fs.rmSync(report);
    const redraw = await cs336(['experiment', 'report', path.join(dir, 'sgd-toy')]);
    expect(redraw.code).toBe(0);
    expect(fs.existsSync(report)).toBe(true);
    const list = await cs336(['experiment', 'list']);
    expect(list.stdout.split('\n').map((l) => l.split(' ')[0]).filter(Boolean)).toEqual(['batch-size', 'lr-sweep', 'no-norm', 'owt-main', 'parallel-layers', 'post-norm', 'precision', 'sgd-toy']);
  });
});
