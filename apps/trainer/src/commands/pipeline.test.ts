import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readCheckpointMetadata } from '@cs336/train';
import { readSotuSpeeches } from '../default-corpus.js';
import { startFileServer } from '../../../../packages/data/test/file-server.js';

// The pipeline runs as the real CLI in a child process (dist/, built before tests by turbo).
const CLI = path.resolve(import.meta.dirname, '../../dist/cli.js');

function cli(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 240_000 });
}

/** The CLI without blocking this process (the test's HTTP server must keep answering). */
function cliAsync(args: string[], options: { cwd: string; env: Record<string, string> }): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve) => child.on('exit', (status) => resolve({ status, stdout, stderr })));
}

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

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

  it('--preset tinystories from a local mirror: fetch → BPE → tokenize → train → sample; again does nothing; new data reruns BPE and all after it with a new model', async () => {
    const server = await startFileServer();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pipeline-preset-'));
    try {
      const speeches = readSotuSpeeches();
      const join = (xs: { text: string }[]) => Buffer.from(xs.map((s) => `${s.text}\n<|endoftext|>\n`).join(''));
      server.files.set('TinyStoriesV2-GPT4-train.txt', { body: join(speeches.slice(0, 8)), dropAfter: 50_000 });
      server.files.set('TinyStoriesV2-GPT4-valid.txt', { body: join(speeches.slice(8, 9)) });
      const out = path.join(root, 'out');
      const run = () => cliAsync(['pipeline', '--preset', 'tinystories', '--out', out, '--vocab-size', '300', '--steps', '6', '--batch-size', '4', '--context-length', '32',
        '--d-model', '32', '--num-layers', '1', '--num-heads', '2', '--d-ff', '64', '--prompt', 'The'], { cwd: root, env: { CS336_DATASET_MIRROR: server.base } });
      const data = path.join(root, 'data/tinystories');
      const outputs = ['tokenizer/vocab.json', 'tokenizer/merges.txt', 'tokens/train.bin', 'tokens/valid.bin', 'model/checkpoint.safetensors'].map((f) => path.join(out, f));
      const mtimes = () => outputs.map((f) => fs.statSync(f).mtimeMs);

      const first = await run();
      expect(first.stderr).toContain('5/5 sample');
      expect(first.status).toBe(0);
      expect(fs.readFileSync(path.join(data, 'train.txt')).equals(server.files.get('TinyStoriesV2-GPT4-train.txt')!.body)).toBe(true);
      expect(first.stderr).toMatch(/download of .*TinyStoriesV2-GPT4-train\.txt interrupted.*retrying/); // the mirror dropped the connection once
      const firstMeta = readCheckpointMetadata(path.join(out, 'model'))!;
      expect(firstMeta.step).toBe(6);
      expect(firstMeta.data).toEqual({ trainData: sha256(outputs[2]!), validationData: sha256(outputs[3]!) });
      const before = mtimes();
      const requests = server.requests.length;

      const second = await run();
      expect(second.status).toBe(0);
      expect(second.stderr).toContain(`reusing ${path.join(out, 'tokenizer')}`);
      expect(second.stderr).toContain(`reusing ${outputs[2]} (same text and tokenizer)`);
      expect(second.stderr).toContain(`reusing ${path.join(out, 'model')} (step 6`);
      expect(second.stdout).not.toMatch(/^trained \d+ tokens/m); // no BPE
      expect(server.requests.length).toBe(requests); // nothing fetched
      expect(mtimes()).toEqual(before);

      // New data upstream, fetched again: BPE, both token files and the model are redone; the old model is not resumed.
      server.files.set('TinyStoriesV2-GPT4-train.txt', { body: join(speeches.slice(20, 28)) });
      fs.rmSync(path.join(data, 'train.txt'));
      const third = await run();
      expect(third.status).toBe(0);
      expect(third.stdout).toMatch(/^trained \d+ tokens/m);
      expect(third.stderr).not.toContain('reusing');
      expect(third.stderr).toContain(`the model in ${path.join(out, 'model')} was trained on other data`);
      expect(third.stderr).not.toContain('resumed from');
      const thirdMeta = readCheckpointMetadata(path.join(out, 'model'))!;
      expect(thirdMeta.tokenizerHash).not.toBe(firstMeta.tokenizerHash);
      expect(thirdMeta.data).toEqual({ trainData: sha256(outputs[2]!), validationData: sha256(outputs[3]!) });
      expect(fs.readFileSync(path.join(out, 'model/metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step)).toEqual([0, 1, 2, 3, 4, 5, 6]); // a new model: its own step-0 evaluation, then six steps
    } finally {
      await server.close();
      fs.rmSync(root, { recursive: true, force: true });
    }
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
