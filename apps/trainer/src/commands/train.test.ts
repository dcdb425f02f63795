/**
 * `cs336 train` and `cs336 generate` end to end, each run as the real CLI in a child process
 * (workspace packages resolved to their sources): BPE → tokenize → train → Ctrl-C → resume → sample.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../command.js';
import { parseTrainArgs } from './train.js';
import { cs336 as builtCli } from '../../test/cli-run.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(here, '../cli.ts');
const CHILD_TSCONFIG = path.join(here, '../../../../packages/train/test/tsconfig.child.json');

interface Run { code: number | null; stdout: string; stderr: string }

function cs336(args: string[], interrupt?: { when: RegExp; signal: NodeJS.Signals }): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TSX_TSCONFIG_PATH: CHILD_TSCONFIG } });
  let stdout = '';
  let stderr = '';
  let sent = false;
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (interrupt && !sent && interrupt.when.test(stderr)) {
      sent = true;
      child.kill(interrupt.signal);
    }
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('parseTrainArgs', () => {
  it('pairs --field value overrides and keeps --config and --resume apart', () => {
    expect(parseTrainArgs(['--config', 'c.json', '--lr', '1e-3', '--resume', '--steps=20', '--model.dModel', '64']))
      .toEqual({ config: 'c.json', resume: true, fresh: false, overrides: { lr: '1e-3', steps: '20', 'model.dModel': '64' } });
    expect(parseTrainArgs(['--fresh']).fresh).toBe(true);
    expect(() => parseTrainArgs(['--fresh', '--resume'])).toThrow(/exclude each other/);
  });
  it('rejects stray arguments and flags without a value', () => {
    expect(() => parseTrainArgs(['stray'])).toThrow(UsageError);
    expect(() => parseTrainArgs(['--steps'])).toThrow('--steps needs a value');
  });
});

describe('cs336 train / generate', () => {
  let dir: string;
  let config: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-train-'));
    const sentences = ['the cat sat on the mat.', 'a dog ran to the park.', 'the bird sang a song.', 'we like to read books.'];
    const text = Array.from({ length: 400 }, (_, i) => sentences[(i * 7) % 4]).join(' ') + '<|endoftext|>';
    fs.writeFileSync(path.join(dir, 'text.txt'), text);
    const bpe = await cs336(['bpe', 'train', '--input', path.join(dir, 'text.txt'), '--vocab-size', '300', '--special-token', '<|endoftext|>', '--out', path.join(dir, 'tok'), '--workers', '1']);
    expect(bpe.code).toBe(0);
    // A second, different tokenizer (fewer merges) for the mismatch check.
    const bpe2 = await cs336(['bpe', 'train', '--input', path.join(dir, 'text.txt'), '--vocab-size', '280', '--special-token', '<|endoftext|>', '--out', path.join(dir, 'tok2'), '--workers', '1']);
    expect(bpe2.code).toBe(0);
    const tokenized = await cs336(['tokenize', '--tokenizer', path.join(dir, 'tok'), '--input', path.join(dir, 'text.txt'), '--out', path.join(dir, 'tokens.bin'), '--workers', '0']);
    expect(tokenized.code).toBe(0);
    config = path.join(dir, 'cfg.json');
    fs.writeFileSync(config, JSON.stringify({
      model: { vocabSize: 300, contextLength: 16, dModel: 16, numLayers: 1, numHeads: 2, dFf: 32 },
      tokenizer: path.join(dir, 'tok'), trainData: path.join(dir, 'tokens.bin'), validationData: path.join(dir, 'tokens.bin'), runDir: path.join(dir, 'run'),
      batchSize: 4, steps: 400, stepsPerRun: 2, warmupSteps: 2, evalEvery: 2, evalBatches: 1, checkpointEvery: 1000, threads: 1,
    }));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints each override, stops cleanly on SIGINT with a checkpoint, and resumes to the end', async () => {
    const first = await cs336(['train', '--config', config, '--lr', '3e-3'], { when: /step 4: train loss/, signal: 'SIGINT' });
    expect(first.stderr).toContain('override maxLearningRate: 0.001 → 0.003');
    expect(first.stderr).toContain('received SIGINT');
    expect(first.code).toBe(0);
    const stoppedAt = Number(/^interrupted: step (\d+)/.exec(first.stdout)?.[1]);
    expect(stoppedAt).toBeGreaterThanOrEqual(4);
    expect(stoppedAt).toBeLessThan(40);
    const resumed = await cs336(['train', '--config', config, '--lr', '3e-3', '--steps', '40', '--resume']);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(`resumed from ${path.join(dir, 'run', 'checkpoint.safetensors')} at step ${stoppedAt}`);
    expect(resumed.stdout).toMatch(/^done: step 40, train loss [\d.]+, validation loss [\d.]+; checkpoint /);
  });

  it('exits 2 on a bad flag and on an out-of-range value, naming the problem', async () => {
    const bad = await cs336(['train', '--config', config, '--lrr', '1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown option --lrr/);
    // A misspelt key inside the file's model section: before, the default dModel (512) was used silently.
    const typo = path.join(dir, 'typo.json');
    const parsed = JSON.parse(fs.readFileSync(config, 'utf8')) as { model: Record<string, unknown> };
    fs.writeFileSync(typo, JSON.stringify({ ...parsed, model: { ...parsed.model, dmodel: 16 } }));
    const long = await cs336(['train', '--config', config, '--context-length', '17']);
    const misspelt = await cs336(['train', '--config', typo]);
    const precision = await cs336(['train', '--config', config, '--precision', 'bf16']);
    expect(precision.code).toBe(2);
    expect(precision.stderr).toMatch(/precision.*"bf16"|"bf16".*precision/);
    expect(misspelt.code).toBe(2);
    expect(misspelt.stderr).toContain('"model": unknown field "dmodel"; did you mean "dModel"?');
    expect(long.code).toBe(2); // out of range: a usage error, caught before any work
    expect(long.stderr).toMatch(/contextLength 17 is longer than the model's contextLength 16/);
    // A uint32 token file without its sidecar: before, it was read as uint16 and trained on garbage.
    const ids16 = new Uint16Array(Uint8Array.from(fs.readFileSync(path.join(dir, 'tokens.bin'))).buffer);
    const wide = path.join(dir, 'tokens32.bin');
    fs.writeFileSync(wide, Buffer.from(Uint32Array.from(ids16).buffer));
    // A validation file of 20 tokens: one window of 17, fewer than a batch of 4.
    const small = path.join(dir, 'small.bin');
    fs.writeFileSync(small, Buffer.from(ids16.slice(0, 20).buffer));
    fs.writeFileSync(`${small}.json`, JSON.stringify({ format: 'cs336-tokens', dtype: 'uint16', count: 20, vocabSize: 300 }));
    const [noDtype, tinyValidation] = await Promise.all([
      cs336(['train', '--config', config, '--train-data', wide, '--validation-data', '', '--run-dir', path.join(dir, 'run32')]),
      cs336(['train', '--config', config, '--validation-data', small, '--run-dir', path.join(dir, 'run-small')]),
    ]);
    expect(noDtype.code).toBe(1);
    expect(noDtype.stderr).toMatch(/tokens32\.bin: no sidecar .*--data-dtype uint16\|uint32/);
    expect(tinyValidation.code).toBe(1);
    expect(tinyValidation.stderr).toMatch(/small\.bin: 20 validation tokens make 1 windows of 17, fewer than one evaluation batch of 4; lower --batch-size or --context-length/);
    expect(fs.existsSync(path.join(dir, 'run-small', 'metrics.jsonl'))).toBe(false);
  });

  it('--precision fp16 trains with loss scaling: overflowing steps are logged as skipped and the scale halves', async () => {
    const runDir = path.join(dir, 'run-fp16');
    const run = await cs336(['train', '--config', config, '--precision', 'fp16', '--loss-scale-init', String(2 ** 40), '--steps', '6', '--run-dir', runDir]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('override precision: "fp32" → "fp16"');
    expect(run.stderr).toContain(`step 1: skipped (float16 gradients overflowed at loss scale ${2 ** 40}); loss scale now ${2 ** 39}`);
    expect(run.stdout).toMatch(/^done: step 6, /);
    const records = fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { step: number; lossScale?: number; skipped?: boolean });
    expect(records.slice(1, 3)).toMatchObject([{ step: 1, lossScale: 2 ** 40, skipped: true }, { step: 2, lossScale: 2 ** 39, skipped: true }]);
  });

  it('generates reproducibly from the checkpoint, starting with the prompt (tokenizer from the flag or the checkpoint)', async () => {
    const args = ['generate', '--checkpoint', path.join(dir, 'run'), '--prompt', 'the cat', '--max-new-tokens', '12', '--seed', '3'];
    const [a, b] = await Promise.all([cs336([...args, '--tokenizer', path.join(dir, 'tok')]), cs336(args)]);
    expect(a.code).toBe(0);
    expect(a.stdout.startsWith('the cat')).toBe(true);
    expect(a.stdout.length).toBeGreaterThan('the cat\n'.length);
    expect(b.stdout).toBe(a.stdout);
    const [missing, otherTokenizer] = await Promise.all([
      cs336(['generate', '--checkpoint', path.join(dir, 'nope'), '--tokenizer', path.join(dir, 'tok'), '--prompt', 'x']),
      cs336(['generate', '--checkpoint', path.join(dir, 'run'), '--tokenizer', path.join(dir, 'tok2'), '--prompt', 'x']),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no checkpoint at .*nope/);
    expect(otherTokenizer.code).toBe(2);
    expect(otherTokenizer.stderr).toMatch(/is not the one the model's training data was tokenized with/);
  });

  it('generate rejects sampling options before printing, exits quietly when stdout closes, names --device cpu, cuts long prompts', async () => {
    const base = ['generate', '--checkpoint', path.join(dir, 'run'), '--prompt', 'the cat'];
    const long = 'the cat sat on the mat. '.repeat(6);
    const [topP, piped, cuda, longPrompt] = await Promise.all([
      builtCli([...base, '--top-p', '0']),
      builtCli([...base, '--max-new-tokens', '100000', '--temperature', '2'], { closeStdoutAfterFirstData: true }),
      builtCli([...base, '--device', 'cuda']),
      builtCli(['generate', '--checkpoint', path.join(dir, 'run'), '--prompt', long, '--max-new-tokens', '3']),
    ]);
    // The model's context is 16 tokens: a longer prompt is cut to its last 16 (said on stderr), yet printed whole.
    expect(longPrompt.code).toBe(0);
    expect(longPrompt.stderr).toMatch(/note: the prompt is \d+ tokens; the model sees only its last 16/);
    expect(longPrompt.stdout.startsWith(long)).toBe(true);
    expect(topP.code).toBe(2);
    expect(topP.stdout).toBe('');
    expect(topP.stderr).toMatch(/--top-p must be in \(0, 1\]/);
    expect(piped.stderr).toBe('');
    expect(piped.code).toBe(0);
    if (cuda.code !== 0) { // no CUDA provider here (the usual case): the fix named is the CLI's flag
      expect(cuda.stderr).toMatch(/Or run on the CPU: --device cpu\./);
      expect(cuda.stderr).not.toMatch(/device: 'cpu'/);
    }
  });

  it('refuses a run directory holding a checkpoint, and a resume on data from another tokenizer (exit 2, both identities named)', async () => {
    const runDir = path.join(dir, 'run');
    const again = await cs336(['train', '--config', config, '--steps', '4']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`${runDir} already holds a checkpoint (step 40 of 40, trained on tokenizer `);
    expect(again.stderr).toContain('Pass --resume to continue it, --fresh to replace it, or choose a new --run-dir.');

    const tokens2 = path.join(dir, 'tokens2.bin');
    expect((await cs336(['tokenize', '--tokenizer', path.join(dir, 'tok2'), '--input', path.join(dir, 'text.txt'), '--out', tokens2, '--workers', '0'])).code).toBe(0);
    const hashOf = (file: string) => (JSON.parse(fs.readFileSync(`${file}.json`, 'utf8')) as { tokenizerHash: string }).tokenizerHash.slice(0, 12);
    const other = ['--train-data', tokens2, '--validation-data', tokens2, '--tokenizer', path.join(dir, 'tok2'), '--steps', '44'];
    const foreign = await cs336(['train', '--config', config, ...other, '--resume']);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain(`${path.join(runDir, 'checkpoint.safetensors')} (step 40) was trained on other data: its tokenizer, train data and validation data do not match this run's.`);
    expect(foreign.stderr).toContain(`checkpoint: tokenizer ${hashOf(path.join(dir, 'tokens.bin'))}, train data `);
    expect(foreign.stderr).toContain(`now:        tokenizer ${hashOf(tokens2)}, train data `);
    expect(foreign.stderr).toMatch(/--fresh/);
    expect(foreign.stdout).toBe('');

    // --fresh starts over on the new data; the refusals above changed nothing on disk.
    const fresh = await cs336(['train', '--config', config, ...other, '--steps', '4', '--fresh']);
    expect(fresh.code).toBe(0);
    expect(fresh.stderr).toContain(`--fresh: removed the checkpoint in ${runDir}; starting over`);
    expect(fresh.stdout).toMatch(/^done: step 4,/);
  });
});
