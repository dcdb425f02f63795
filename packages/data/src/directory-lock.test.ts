import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LockedError, acquireDirectoryLock } from './directory-lock.js';

const here = path.dirname(fileURLToPath(import.meta.url));
let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'directory-lock-')); });
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('acquireDirectoryLock', () => {
  it('writes our pid, refuses a second take in this process, and frees the folder on release', () => {
    const release = acquireDirectoryLock(path.join(dir, 'new'), 'x.lock', 'folder new');
    expect(fs.readFileSync(path.join(dir, 'new', 'x.lock'), 'utf8')).toBe(String(process.pid));
    expect(() => acquireDirectoryLock(path.join(dir, 'new'), 'x.lock', 'folder new')).toThrow(/folder new is in use by this process/);
    release();
    expect(fs.existsSync(path.join(dir, 'new', 'x.lock'))).toBe(false);
    acquireDirectoryLock(path.join(dir, 'new'), 'x.lock', 'folder new')();
  });

  it('refuses a lock held by a running process, naming it, and takes over one whose process is gone', () => {
    const file = path.join(dir, 'x.lock');
    fs.writeFileSync(file, String(process.ppid)); // alive, and not us
    let error: unknown;
    try { acquireDirectoryLock(dir, 'x.lock', 'the folder'); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(LockedError);
    expect((error as LockedError).message).toBe(`the folder is in use by another process (pid ${process.ppid}); wait for it or stop it (lock file ${file})`);
    expect(fs.readFileSync(file, 'utf8')).toBe(String(process.ppid)); // untouched

    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    fs.writeFileSync(file, gone.stdout); // a SIGKILLed holder leaves its file behind
    const release = acquireDirectoryLock(dir, 'x.lock', 'the folder');
    expect(fs.readFileSync(file, 'utf8')).toBe(String(process.pid));
    release();
  });

  it('lets exactly one of several processes started together hold it', async () => {
    const lockModule = path.join(here, '..', 'dist', 'directory-lock.js');
    expect(fs.existsSync(lockModule)).toBe(true); // built by `pnpm build` before the tests
    const script = `const { acquireDirectoryLock } = await import(${JSON.stringify(lockModule)});
      try { acquireDirectoryLock(${JSON.stringify(dir)}, 'x.lock', 'd'); console.log('held'); await new Promise((r) => setTimeout(r, 1500)); }
      catch (e) { console.log(e.name); }`;
    const runs = Array.from({ length: 6 }, () => new Promise<string>((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
      child.on('close', () => resolve(out.trim()));
    }));
    const results = await Promise.all(runs);
    expect(results.filter((r) => r === 'held')).toHaveLength(1);
    expect(results.filter((r) => r === 'LockedError')).toHaveLength(5);
  });
});
