import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HASH_CACHE_FILE, cachedContentHash, contentHash } from './content-hash.js';

describe('contentHash', () => {
  it('is the SHA-256 of the bytes, cached by (size, mtime, inode), and recomputed when the file is rewritten', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'content-hash-'));
    const file = path.join(dir, 'a.txt');
    fs.writeFileSync(file, 'hello world');
    const expected = createHash('sha256').update('hello world').digest('hex');
    expect(cachedContentHash(file)).toBeUndefined();
    expect(await contentHash(file)).toBe(expected);
    expect(cachedContentHash(file)).toBe(expected);
    expect(fs.existsSync(path.join(dir, HASH_CACHE_FILE))).toBe(true);

    // The cache is trusted while the stat matches (proof: a doctored entry is returned as is)...
    const cache = JSON.parse(fs.readFileSync(path.join(dir, HASH_CACHE_FILE), 'utf8'));
    cache['a.txt'].sha256 = 'f'.repeat(64);
    fs.writeFileSync(path.join(dir, HASH_CACHE_FILE), JSON.stringify(cache));
    expect(await contentHash(file)).toBe('f'.repeat(64));
    // ...and not once the file is rewritten with the same size but other bytes and another mtime.
    fs.writeFileSync(file, 'HELLO WORLD');
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(await contentHash(file)).toBe(createHash('sha256').update('HELLO WORLD').digest('hex'));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('names a missing file', async () => {
    await expect(contentHash('/nonexistent/x.bin')).rejects.toThrow(/cannot hash \/nonexistent\/x\.bin: ENOENT/);
  });
});
