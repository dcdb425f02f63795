import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HASH_CACHE_FILE, cachedContentHash, cachedFileFacts, contentHash, recordContentHash, recordFileFacts } from './content-hash.js';

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

  it('caches facts computed from the chunks of the hashing pass, keeps them with the hash, and drops them with a rewrite', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'content-hash-'));
    const file = path.join(dir, 'b.bin');
    const bytes = Buffer.alloc(3 * (1 << 22) + 17); // several stream chunks
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) % 251;
    fs.writeFileSync(file, bytes);
    let seen = 0;
    let sum = 0;
    const sha = await contentHash(file, { onChunk: (chunk) => { seen += chunk.length; for (const b of chunk) sum += b; }, facts: () => ({ sum }) });
    expect(sha).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(seen).toBe(bytes.length);
    expect(cachedFileFacts(file)).toEqual({ sum: bytes.reduce((a, b) => a + b, 0) });
    // A cache hit reads nothing: no chunk is seen.
    let again = 0;
    expect(await contentHash(file, { onChunk: () => { again++; } })).toBe(sha);
    expect(again).toBe(0);
    // Facts add up, and re-recording the same hash keeps them; a different hash starts without them.
    recordFileFacts(file, { other: 3 });
    recordContentHash(file, sha);
    expect(cachedFileFacts(file)).toEqual({ sum: bytes.reduce((a, b) => a + b, 0), other: 3 });
    fs.appendFileSync(file, 'x');
    expect(cachedFileFacts(file)).toBeUndefined();
    recordFileFacts(file, { lost: 1 }); // the entry no longer describes the file: nothing recorded
    expect(cachedContentHash(file)).toBeUndefined();
    recordContentHash(file, 'e'.repeat(64));
    expect(cachedFileFacts(file)).toBeUndefined();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('names a missing file', async () => {
    await expect(contentHash('/nonexistent/x.bin')).rejects.toThrow(/cannot hash \/nonexistent\/x\.bin: ENOENT/);
  });
});
