/**
 * The command line's contract, through the built CLI in child processes: help that documents every
 * flag, every argument and output location checked before work (exit 2 with the usage line), quiet
 * pipes, file sets that never mix, and bytes that are not UTF-8 counted (or refused with --strict).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_GENERATE_OPTIONS } from '@cs336/train';
import { COMMANDS } from './command-table.js';
import { cs336 } from '../test/cli-run.js';

/** Flags each command needs; every other flag must show as optional ([...] or (...|...)) in its synopsis. */
const REQUIRED: Record<string, string[]> = { 'bpe train': ['input', 'vocab-size', 'out'], tokenize: ['input', 'out'], generate: ['checkpoint', 'prompt'], 'export web': ['checkpoint', 'out'], eval: ['checkpoint', 'data'] };

let root: string;
let corpus: string;
let tokenizer: string;
const sentences = ['the cat sat on the mat.', 'a dog ran to the park!', 'we like to read books.', 'birds sing in the trees.'];
/** Text with 3 bytes that are not UTF-8: 0xFF, and 0xE2 0x82 (a 3-byte character cut short, one U+FFFD). */
const damaged = Buffer.concat([Buffer.from('the cat '), Buffer.from([0xff]), Buffer.from(' sat '), Buffer.from([0xe2, 0x82]), Buffer.from(' on the mat.\n')]);

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-contract-'));
  corpus = path.join(root, 'corpus.txt');
  fs.writeFileSync(corpus, Array.from({ length: 3000 }, (_, i) => sentences[(i * 7) % 4]).join(' '));
  tokenizer = path.join(root, 'tok');
  const trained = await cs336(['bpe', 'train', '--input', corpus, '--vocab-size', '300', '--special-token', '<|endoftext|>', '--out', tokenizer, '--workers', '0']);
  expect(trained.code).toBe(0);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('help', () => {
  it('`cs336 bpe` and `cs336 bpe --help` list the subcommands', async () => {
    const [bare, help] = await Promise.all([cs336(['bpe']), cs336(['bpe', '--help'])]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/subcommands:\n {2}bpe train /);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/subcommands:\n {2}bpe train /);
    expect(help.stdout + help.stderr).not.toMatch(/unknown command/);
  });

  it('every command\'s --help explains each flag it accepts, and marks the optional ones', async () => {
    const names = Object.keys(COMMANDS);
    const helps = await Promise.all(names.map((name) => cs336([...name.split(' '), '--help'])));
    for (const [i, name] of names.entries()) {
      const command = await COMMANDS[name]!();
      expect(helps[i]!.code).toBe(0);
      const [synopsis, ...explained] = helps[i]!.stdout.replace(/^usage: /, '').split('\n');
      for (const flag of command.flags) {
        const at = synopsis!.indexOf(`--${flag}`);
        expect({ name, flag, inSynopsis: at >= 0 }).toEqual({ name, flag, inSynopsis: true });
        expect({ name, flag, explained: explained.some((line) => line.trimStart().startsWith(`--${flag} `)) }).toEqual({ name, flag, explained: true });
        const before = synopsis!.slice(0, at);
        const depth = (before.match(/[[(]/g) ?? []).length - (before.match(/[\])]/g) ?? []).length;
        expect({ name, flag, optional: depth > 0 }).toEqual({ name, flag, optional: !(REQUIRED[name] ?? []).includes(flag) });
      }
    }
  });

  it('generate --help gives each default and says what happens to a prompt longer than the context', async () => {
    const help = (await cs336(['generate', '--help'])).stdout;
    const d = DEFAULT_GENERATE_OPTIONS;
    for (const [flag, value] of [['max-new-tokens', d.maxNewTokens], ['temperature', d.temperature], ['top-p', d.topP], ['seed', d.seed]] as const) {
      expect(help).toMatch(new RegExp(`--${flag} .*\\(default ${value}\\)`));
    }
    expect(help).toMatch(/longer than the model's context keeps only its last/);
  });
});

describe('checked before work', () => {
  it('bpe train refuses an --out that cannot be created before training (exit 2, usage line)', async () => {
    fs.writeFileSync(path.join(root, 'a-file'), '');
    const run = await cs336(['bpe', 'train', '--input', corpus, '--vocab-size', '300', '--out', path.join(root, 'a-file', 'tok'), '--workers', '0']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--out ".*a-file\/tok" cannot be created: ".*a-file" is a file/);
    expect(run.stderr).toMatch(/\nusage: cs336 bpe train /);
    expect(run.stderr).not.toMatch(/pre-tokenize|merge/); // no progress: training never started
  });

  (process.platform === 'linux' ? it : it.skip)('an output inside /proc is an error before work, not an endless mkdir (bpe train, tokenize, train, pipeline)', async () => {
    const proc = '/proc/cs336-no-such';
    const runs = await Promise.all([
      cs336(['bpe', 'train', '--input', corpus, '--vocab-size', '300', '--out', `${proc}/tok`, '--workers', '0'], { timeoutMs: 15_000 }),
      cs336(['tokenize', '--tokenizer', tokenizer, '--input', corpus, '--out', `${proc}/tokens.bin`], { timeoutMs: 15_000 }),
      cs336(['train', '--train-data', corpus, '--run-dir', `${proc}/run`], { timeoutMs: 15_000 }),
      cs336(['pipeline', '--out', `${proc}/pipeline`], { timeoutMs: 15_000 }),
    ]);
    for (const [i, run] of runs.entries()) {
      expect({ i, code: run.code, proc: /in "\/proc"/.test(run.stderr) }).toEqual({ i, code: 2, proc: true });
    }
  }, 20_000);

  it('tokenize refuses an --out that is a directory before encoding', async () => {
    const run = await cs336(['tokenize', '--tokenizer', tokenizer, '--input', corpus, '--out', root]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--out ".*" is a directory; give a file name/);
  });

  it('out-of-range values exit 2 with the usage line, like malformed ones, before anything is printed', async () => {
    const runs = await Promise.all([
      cs336(['bpe', 'train', '--input', corpus, '--vocab-size', '100', '--out', path.join(root, 'never')]),
      cs336(['generate', '--checkpoint', path.join(root, 'no-run'), '--prompt', 'the cat', '--top-p', '0']),
      cs336(['generate', '--checkpoint', path.join(root, 'no-run'), '--prompt', 'the cat', '--temperature', '-1']),
      cs336(['pipeline', '--vocab-size', '10', '--out', path.join(root, 'never')]),
      cs336(['train', '--train-data', corpus, '--batch-size', '0', '--run-dir', path.join(root, 'never')]),
    ]);
    const [vocab, topP, temperature, pipeline, train] = runs;
    expect(vocab!.stderr).toMatch(/vocabSize 100 is too small/);
    expect(topP!.stderr).toMatch(/--top-p must be in \(0, 1\]; got "0"/);
    expect(temperature!.stderr).toMatch(/--temperature must be ≥ 0; got "-1"/);
    expect(pipeline!.stderr).toMatch(/vocabSize 10 is too small/);
    expect(train!.stderr).toMatch(/batchSize/);
    for (const [i, run] of runs.entries()) {
      expect({ i, code: run.code, usage: /\nusage: cs336 /.test(run.stderr), stdout: run.stdout }).toEqual({ i, code: 2, usage: true, stdout: '' });
    }
    expect(fs.existsSync(path.join(root, 'never'))).toBe(false);
  });
});

describe('streams', () => {
  it('encode exits quietly with 0 when the reader closes stdout early (| head)', async () => {
    const big = Array.from({ length: 40_000 }, (_, i) => sentences[i % 4]).join(' ');
    const run = await cs336(['encode', '--tokenizer', tokenizer], { input: big, closeStdoutAfterFirstData: true });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it('encode and decode refuse a directory as standard input', async () => {
    const [encode, decode] = await Promise.all([cs336(['encode', '--tokenizer', tokenizer], { stdinPath: root }), cs336(['decode', '--tokenizer', tokenizer], { stdinPath: root })]);
    for (const run of [encode, decode]) {
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/standard input is a directory/);
      expect(run.stdout).toBe('');
    }
  });
});

describe('bpe train writes its three files as one set', () => {
  const files = ['vocab.json', 'merges.txt', 'tokenizer.json'];
  const snapshot = (dir: string) => Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));

  it('a failure writing the third file leaves the old set (and other files) as they were', async () => {
    const out = path.join(root, 'set');
    fs.cpSync(tokenizer, out, { recursive: true });
    fs.writeFileSync(path.join(out, 'notes.txt'), 'kept');
    const before = snapshot(out);
    const run = await cs336(['bpe', 'train', '--input', corpus, '--vocab-size', '280', '--out', out, '--workers', '0'], { env: { CS336_TEST_FAIL_WRITE: 'tokenizer.json' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/failing on purpose before writing tokenizer\.json/);
    expect(snapshot(out)).toEqual(before);
    expect([...fs.readdirSync(root), ...fs.readdirSync(out)].filter((n) => n.includes('.tmp-'))).toEqual([]); // no staging left
    // Without the failure the new (smaller) set replaces the old one, and notes.txt stays.
    expect((await cs336(['bpe', 'train', '--input', corpus, '--vocab-size', '280', '--out', out, '--workers', '0'])).code).toBe(0);
    expect(Object.keys(JSON.parse(fs.readFileSync(path.join(out, 'vocab.json'), 'utf8')))).toHaveLength(280);
    expect(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8')).toBe('kept');
  });

  it('a member of the set that is a directory is refused before training, leaving the old files', async () => {
    const out = path.join(root, 'set-with-dir');
    fs.mkdirSync(path.join(out, 'tokenizer.json'), { recursive: true });
    for (const f of files.slice(0, 2)) fs.copyFileSync(path.join(tokenizer, f), path.join(out, f));
    const before = snapshot(path.join(root, 'tok'));
    const run = await cs336(['bpe', 'train', '--input', corpus, '--vocab-size', '280', '--out', out, '--workers', '0']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/holds tokenizer\.json, which is not a regular file/);
    for (const f of files.slice(0, 2)) expect(fs.readFileSync(path.join(out, f), 'utf8')).toBe(before[f]);
  });
});

describe('bytes that are not UTF-8', () => {
  let input: string;
  beforeAll(() => {
    input = path.join(root, 'damaged.txt');
    fs.writeFileSync(input, Buffer.concat([Buffer.from(fs.readFileSync(corpus, 'utf8').slice(0, 5000)), damaged]));
  });

  it('bpe train says how many bytes it replaced; with --strict it fails and writes nothing', async () => {
    const [lenient, strict] = await Promise.all([
      cs336(['bpe', 'train', '--input', input, '--vocab-size', '270', '--out', path.join(root, 'u8-tok'), '--workers', '0']),
      cs336(['bpe', 'train', '--input', input, '--vocab-size', '270', '--out', path.join(root, 'u8-strict'), '--workers', '0', '--strict']),
    ]);
    expect(lenient.code).toBe(0);
    expect(lenient.stderr).toMatch(/warning: 3 byte\(s\) of .*damaged\.txt are not UTF-8/);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(new RegExp(`byte ${5000 + 8} is not part of a UTF-8 character`));
    expect(fs.existsSync(path.join(root, 'u8-strict'))).toBe(false);
  });

  it('tokenize says how many bytes it replaced; with --strict it fails and writes nothing', async () => {
    const [lenient, strict] = await Promise.all([
      cs336(['tokenize', '--tokenizer', tokenizer, '--input', input, '--out', path.join(root, 'u8.bin'), '--workers', '1']),
      cs336(['tokenize', '--tokenizer', tokenizer, '--input', input, '--out', path.join(root, 'u8-strict.bin'), '--workers', '1', '--strict']),
    ]);
    expect(lenient.code).toBe(0);
    expect(lenient.stderr).toMatch(/warning: 3 byte\(s\) of .*damaged\.txt are not UTF-8/);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/is not valid UTF-8/);
    expect(fs.readdirSync(root).filter((n) => n.startsWith('u8-strict'))).toEqual([]);
  });

  it('encode says how many bytes it replaced; with --strict it fails before writing any id', async () => {
    const [lenient, strict] = await Promise.all([
      cs336(['encode', '--tokenizer', tokenizer], { input: damaged }),
      cs336(['encode', '--tokenizer', tokenizer, '--strict'], { input: damaged }),
    ]);
    expect(lenient.code).toBe(0);
    expect(JSON.parse(lenient.stdout).length).toBeGreaterThan(0);
    expect(lenient.stderr).toMatch(/warning: 3 byte\(s\) of stdin are not UTF-8/);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/stdin is not valid UTF-8: byte 8 /);
    expect(strict.stdout).toBe('');
  });
});
