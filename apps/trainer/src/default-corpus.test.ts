import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { END_OF_TEXT, prepareDefaultCorpus, readSotuSpeeches } from './default-corpus.js';

describe('default corpus', () => {
  it('is at least 5 MB of real prose from the installed npm package, split by speech into train and valid', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'corpus-'));
    const files = prepareDefaultCorpus(dir);
    const train = fs.readFileSync(files.train, 'utf8');
    const valid = fs.readFileSync(files.valid, 'utf8');
    expect(Buffer.byteLength(train)).toBeGreaterThan(5e6);
    expect(valid.length).toBeGreaterThan(100_000);
    const speeches = readSotuSpeeches();
    expect(train.split(END_OF_TEXT).length - 1 + valid.split(END_OF_TEXT).length - 1).toBe(speeches.length);
    // Chronological split: the last speech is in valid only, the first in train only.
    expect(valid).toContain(speeches.at(-1)!.text.slice(0, 200));
    expect(train).not.toContain(speeches.at(-1)!.text.slice(0, 200));
    expect(train.startsWith(speeches[0]!.text.slice(0, 100))).toBe(true);
    // Prepared once: a second call leaves the files as they are.
    const mtime = fs.statSync(files.train).mtimeMs;
    prepareDefaultCorpus(dir);
    expect(fs.statSync(files.train).mtimeMs).toBe(mtime);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
