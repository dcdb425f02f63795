/** `cs336 data fetch` as the real CLI (dist/) in a child process: a local folder, offline, bad usage. */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { closedPort, sampleText, startFileServer } from '../../../../packages/data/test/file-server.js';

const CLI = path.resolve(import.meta.dirname, '../../dist/cli.js');
const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, CS336_DATASET_MIRROR: '' } });

describe('cs336 data fetch', () => {
  let root: string;
  beforeEach(() => { root = fs.mkdtempSync(path.join(os.tmpdir(), 'data-fetch-')); });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('--from a local folder: copies (and gunzips) the upstream names into train.txt/valid.txt with a manifest', () => {
    const mirror = path.join(root, 'mirror');
    fs.mkdirSync(mirror);
    fs.writeFileSync(path.join(mirror, 'owt_train.txt.gz'), gzipSync('some web text<|endoftext|>more web text'));
    fs.writeFileSync(path.join(mirror, 'owt_valid.txt.gz'), gzipSync('held-out text'));
    const dir = path.join(root, 'owt');
    const result = cli(['data', 'fetch', 'owt', '--dir', dir, '--from', mirror]);
    expect(result.status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'train.txt'), 'utf8')).toBe('some web text<|endoftext|>more web text');
    expect(fs.readFileSync(path.join(dir, 'valid.txt'), 'utf8')).toBe('held-out text');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'dataset.json'), 'utf8')).files.valid.source.location).toBe(path.join(mirror, 'owt_valid.txt.gz'));
    expect(result.stdout).toContain(`next: cs336 pipeline --preset owt --data ${dir}`);
    const again = cli(['data', 'fetch', 'owt', '--dir', dir, '--from', mirror]);
    expect(again.stdout).toMatch(/train\.txt: 0\.0 MB, sha256 [0-9a-f]{64} \(already there\)/);
  });

  it('a fetch killed mid-download (SIGKILL) leaves only a .part; the next run resumes it with Range and ends byte-identical', async () => {
    const server = await startFileServer();
    try {
      const train = sampleText(3_000_000, 21);
      server.files.set('TinyStoriesV2-GPT4-train.txt', { body: train, chunkDelayMs: 15 });
      server.files.set('TinyStoriesV2-GPT4-valid.txt', { body: sampleText(10_000, 22) });
      const dir = path.join(root, 'ts');
      const args = [CLI, 'data', 'fetch', 'tinystories', '--dir', dir, '--from', server.base];
      const child = spawn(process.execPath, args, { stdio: 'ignore' });
      const part = path.join(dir, 'train.txt.part');
      const exited = new Promise((resolve) => child.on('exit', resolve));
      while ((fs.statSync(part, { throwIfNoEntry: false })?.size ?? 0) < 500_000) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGKILL');
      await exited;
      expect(fs.existsSync(path.join(dir, 'train.txt'))).toBe(false);
      const kept = fs.statSync(part).size;
      expect(kept).toBeLessThan(train.length);

      server.files.get('TinyStoriesV2-GPT4-train.txt')!.chunkDelayMs = undefined;
      server.requests.length = 0;
      const again = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      again.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
      expect(await new Promise((resolve) => again.on('exit', resolve))).toBe(0);
      expect(stderr).toContain(`resuming ${path.join(dir, 'train.txt')} from byte ${kept}`);
      expect(server.requests.find((r) => r.path === '/cdn/TinyStoriesV2-GPT4-train.txt')?.range).toBe(`bytes=${kept}-`);
      expect(fs.readFileSync(path.join(dir, 'train.txt')).equals(train)).toBe(true);
      expect(fs.existsSync(part)).toBe(false);
    } finally {
      await server.close();
    }
  });

  it('offline: exit 1, the URL that failed and the --from alternative, and no data file written', async () => {
    const port = await closedPort();
    const dir = path.join(root, 'ts');
    const result = cli(['data', 'fetch', 'tinystories', '--dir', dir, '--from', `http://127.0.0.1:${port}`]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`cs336 data fetch: cannot reach http://127.0.0.1:${port}/TinyStoriesV2-GPT4-train.txt: ECONNREFUSED. Without that network, fetch from a local copy or a mirror holding TinyStoriesV2-GPT4-train.txt: cs336 data fetch tinystories --from DIR|URL`);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('bad usage exits 2 naming the problem', () => {
    expect(cli(['data', 'fetch']).stderr).toMatch(/which dataset\? one of tinystories, owt/);
    const unknown = cli(['data', 'fetch', 'wikitext']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown dataset "wikitext"; known: tinystories, owt/);
    const missing = cli(['data', 'fetch', 'owt', '--dir', path.join(root, 'x'), '--from', path.join(root, 'nope')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--from .*nope: not a folder and not an http\(s\) URL/);
    expect(fs.existsSync(path.join(root, 'x'))).toBe(false);
  });
});
