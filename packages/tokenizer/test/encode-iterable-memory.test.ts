/**
 * The memory bound, checked in a fresh process so this runner's heap does not blur it: 32 MB of
 * generated text (random words keep the pre-token cache refilling) through encodeIterable must grow
 * RSS by at most 32 MB. The bench runs the same child on 128 MB. Needs the built dist/ (turbo builds
 * before testing).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeWithFixtures } from '../../../test-support/fixtures.js';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describeWithFixtures('encodeIterable memory', () => {
  it('streams 32 MB with RSS growth ≤ 32 MB', () => {
    if (!fs.existsSync(path.join(packageDir, 'dist', 'index.js'))) throw new Error('build @cs336/tokenizer first (pnpm --filter @cs336/tokenizer build)');
    const output = execFileSync(process.execPath, [path.join(packageDir, 'bench', 'encode-iterable-memory.mjs'), '32'], { encoding: 'utf8' });
    const result = JSON.parse(output) as { megabytes: number; tokens: number; rssGrowthMB: number };
    expect(result.tokens).toBeGreaterThan(7_000_000);
    expect(result.rssGrowthMB).toBeLessThanOrEqual(32);
  });
});
