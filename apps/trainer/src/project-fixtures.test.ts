/**
 * The repository's fixtures/ folder: every file its README lists is there with the listed sha256, and
 * no test reads project-made data from the course-fixture folder any more (it used to live in
 * ../shared/fixtures/cs336-2024/derived/, outside the repository).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, projectFixturePath } from '../../../test-support/fixtures.js';

describe('fixtures/', () => {
  it('holds every file its README lists, byte for byte', () => {
    const readme = fs.readFileSync(projectFixturePath('README.md'), 'utf8');
    const listed = [...readme.matchAll(/`([0-9a-f]{64})` ([\w-]+\.\w+)/g)].map((m) => ({ sha256: m[1]!, file: m[2]! }));
    expect(listed.map((l) => l.file).sort()).toEqual(fs.readdirSync(projectFixturePath()).filter((f) => f !== 'README.md').sort());
    for (const { sha256, file } of listed) {
      expect(crypto.createHash('sha256').update(fs.readFileSync(projectFixturePath(file))).digest('hex')).toBe(sha256);
    }
  });

  it('is where the tests find the project-made expected ids and optimizer inputs', () => {
    const tests: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        if (entry.name === 'node_modules' || entry.name === 'dist') continue;
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.name.endsWith('.test.ts')) tests.push(full);
      }
    };
    walk(path.join(REPO_ROOT, 'packages'));
    walk(path.join(REPO_ROOT, 'apps'));
    const readers = tests.filter((file) => /fixturePath\('derived', '(tiktoken|adamw)/.test(fs.readFileSync(file, 'utf8')));
    expect(readers).toEqual([]);
  });
});
