import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSotuSpeeches } from '../default-corpus.js';

// The pipeline runs as the real CLI in a child process (dist/, built before tests by turbo).
const CLI = path.resolve(import.meta.dirname, '../../dist/cli.js');

function cli(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 240_000 });
}

describe('cs336 pipeline', () => {
  it('runs corpus → BPE → tokenize → train → sample on a small slice of the default corpus', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pipeline-'));
    const data = path.join(root, 'data');
    fs.mkdirSync(data);
    const speeches = readSotuSpeeches();
    const join = (xs: { text: string }[]) => xs.map((s) => `${s.text}\n<|endoftext|>\n`).join('');
    fs.writeFileSync(path.join(data, 'train.txt'), join(speeches.slice(0, 20)));
    fs.writeFileSync(path.join(data, 'valid.txt'), join(speeches.slice(20, 22)));
    const out = path.join(root, 'out');

    const result = cli(['pipeline', '--data', data, '--out', out, '--vocab-size', '400', '--steps', '20', '--prompt', 'Fellow-Citizens']);
    expect(result.stderr).toContain('5/5 sample');
    expect(result.status).toBe(0);
    for (const file of ['tokenizer/vocab.json', 'tokenizer/merges.txt', 'tokens/train.bin', 'tokens/valid.bin.json', 'model/checkpoint.safetensors', 'model/metrics.jsonl', 'model/loss-curve.svg', 'model/loss-curve.png']) {
      expect(fs.existsSync(path.join(out, file))).toBe(true);
    }
    const metrics = fs.readFileSync(path.join(out, 'model/metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.at(-1).step).toBe(20);
    // Step 0 holds the untrained validation loss; the loss starts near ln(vocab) and the model learns something in 20 steps.
    expect(metrics[0]).toMatchObject({ step: 0, tokensSeen: 0 });
    expect(metrics[0].valLoss).toBeGreaterThan(Math.log(400) - 0.5);
    expect(metrics[1].trainLoss).toBeGreaterThan(Math.log(400) - 0.5);
    expect(metrics.at(-1).trainLoss).toBeLessThan(metrics[1].trainLoss - 0.5);
    // The sample is the last stdout line: the prompt and what the model wrote after it.
    const sample = result.stdout.trim().split('\n').at(-1)!;
    expect(sample.startsWith('Fellow-Citizens')).toBe(true);
    expect(sample.length).toBeGreaterThan('Fellow-Citizens'.length);

    // A second run reuses every stage's outputs and trains no further steps.
    const again = cli(['pipeline', '--data', data, '--out', out, '--vocab-size', '400', '--steps', '20']);
    expect(again.status).toBe(0);
    expect(again.stderr).toContain('reusing');
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('rejects a data folder without train.txt/valid.txt and bad numbers, with exit code 2', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'pipeline-empty-'));
    const missing = cli(['pipeline', '--data', empty, '--out', path.join(empty, 'out')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/train\.txt is missing/);
    expect(fs.existsSync(path.join(empty, 'out', 'tokenizer'))).toBe(false);

    const badSteps = cli(['pipeline', '--steps', '0', '--out', path.join(empty, 'out')]);
    expect(badSteps.status).toBe(2);
    expect(badSteps.stderr).toMatch(/--steps must be an integer ≥ 1/);

    const unknown = cli(['pipeline', '--bogus']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/bogus/);
    fs.rmSync(empty, { recursive: true, force: true });
  });
});
