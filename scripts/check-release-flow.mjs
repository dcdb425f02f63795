// Proves the changesets release flow on a scratch copy of the workspace manifests:
// a minor changeset for @cs336/graph, then `changeset version`, must bump graph to the next minor,
// bump its workspace dependents (patch), and write CHANGELOG.md entries. Nothing in the repo changes.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cs336-release-'));
const copy = (rel) => {
  fs.mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
  fs.copyFileSync(path.join(root, rel), path.join(tmp, rel));
};
for (const rel of ['package.json', 'pnpm-workspace.yaml', '.changeset/config.json']) copy(rel);
const manifests = [];
for (const group of ['packages', 'apps']) {
  for (const name of fs.readdirSync(path.join(root, group))) {
    const rel = `${group}/${name}/package.json`;
    if (fs.existsSync(path.join(root, rel))) { copy(rel); manifests.push(rel); }
  }
}
const version = (rel) => JSON.parse(fs.readFileSync(path.join(tmp, rel), 'utf8')).version;
const before = Object.fromEntries(manifests.map((m) => [m, version(m)]));
fs.writeFileSync(path.join(tmp, '.changeset/graph-feature.md'), `---\n'@cs336/graph': minor\n---\n\nAdd a new op to the graph builder.\n`);
const git = (...args) => execFileSync('git', args, { cwd: tmp, stdio: 'ignore' });
git('init', '-q', '-b', 'main'); git('add', '-A'); git('-c', 'user.email=ci@example.invalid', '-c', 'user.name=ci', 'commit', '-qm', 'base');
execFileSync(path.join(root, 'node_modules/.bin/changeset'), ['version'], { cwd: tmp, stdio: 'inherit' });
const after = Object.fromEntries(manifests.map((m) => [m, version(m)]));
const problems = [];
const [maj, min] = before['packages/graph/package.json'].split('.').map(Number);
if (after['packages/graph/package.json'] !== `${maj}.${min + 1}.0`) problems.push(`graph not bumped to a minor: ${after['packages/graph/package.json']}`);
for (const dependent of ['nn', 'optim', 'train']) {
  const rel = `packages/${dependent}/package.json`;
  if (after[rel] === before[rel]) problems.push(`dependent @cs336/${dependent} was not bumped`);
}
const changelog = path.join(tmp, 'packages/graph/CHANGELOG.md');
if (!fs.existsSync(changelog) || !fs.readFileSync(changelog, 'utf8').includes('Add a new op')) problems.push('graph CHANGELOG.md has no entry');
for (const m of manifests) console.log(`${m.padEnd(32)} ${before[m]} → ${after[m]}`);
fs.rmSync(tmp, { recursive: true, force: true });
if (problems.length) { console.error(problems.join('\n')); process.exit(1); }
console.log('release flow ok: changeset → version bumps and CHANGELOG entries');
