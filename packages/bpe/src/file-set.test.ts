import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeDirectories, writeFileSet } from './file-set.js';

const scratch = () => fs.mkdtempSync(path.join(os.tmpdir(), 'file-set-'));
const failOn = (file: string) => ({ beforeWrite: (name: string) => { if (name === file) throw new Error(`injected failure writing ${name}`); } });
const contents = (dir: string) => Object.fromEntries(fs.readdirSync(dir).sort().map((name) => [name, fs.readFileSync(path.join(dir, name), 'utf8')]));

describe('writeFileSet', () => {
  it('creates a new directory holding the whole set', async () => {
    const dir = path.join(scratch(), 'a', 'b');
    await writeFileSet(dir, [['one', '1'], ['two', '2'], ['three', '3']]);
    expect(contents(dir)).toEqual({ one: '1', three: '3', two: '2' });
    expect(fs.readdirSync(path.dirname(dir))).toEqual(['b']); // no staging left beside it
  });

  it('a failure on the third file leaves no directory when there was none', async () => {
    const root = scratch();
    await expect(writeFileSet(path.join(root, 'out'), [['one', '1'], ['two', '2'], ['three', '3']], failOn('three'))).rejects.toThrow(/injected failure writing three/);
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('a failure on the third file leaves the old set and the other files of an existing directory untouched', async () => {
    const dir = scratch();
    await writeFileSet(dir, [['one', 'old 1'], ['two', 'old 2'], ['three', 'old 3']]);
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    await expect(writeFileSet(dir, [['one', '1'], ['two', '2'], ['three', '3']], failOn('three'))).rejects.toThrow(/injected/);
    expect(contents(dir)).toEqual({ 'notes.txt': 'mine', one: 'old 1', three: 'old 3', two: 'old 2' });
    expect(fs.readdirSync(path.dirname(dir)).filter((n) => n.includes('.tmp-'))).toEqual([]);
    expect(fs.readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
    await writeFileSet(dir, [['one', '1'], ['two', '2'], ['three', '3']]);
    expect(contents(dir)).toEqual({ 'notes.txt': 'mine', one: '1', three: '3', two: '2' });
  });

  it('refuses names that are not plain file names, and a member that is a directory, before writing', async () => {
    const dir = scratch();
    await expect(writeFileSet(dir, [['a/b', 'x']])).rejects.toThrow(/not a plain file name/);
    fs.mkdirSync(path.join(dir, 'two'));
    await expect(writeFileSet(dir, [['one', '1'], ['two', '2']])).rejects.toThrow(/two exists and is not a regular file/);
    expect(fs.readdirSync(dir)).toEqual(['two']);
  });
});

describe('makeDirectories', () => {
  it('creates missing levels and names the one the kernel refuses (no endless retry under /proc)', async () => {
    const dir = path.join(scratch(), 'x', 'y', 'z');
    await makeDirectories(dir);
    expect(fs.statSync(dir).isDirectory()).toBe(true);
    if (process.platform === 'linux') await expect(makeDirectories('/proc/cs336-no-such/dir')).rejects.toThrow(/cannot create directory \/proc\/cs336-no-such/);
  });
});
