// Publish hygiene for every package under packages/: publint, @arethetypeswrong/cli, and the
// `npm pack` file list (only dist/, README.md, LICENSE, package.json may ship, and a package's JSON data in specs/).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const allowed = (file) => file === 'package.json' || file === 'README.md' || file === 'LICENSE' || file.startsWith('dist/') || /^specs\/[a-z0-9-]+\.json$/.test(file);
const forbidden = (file) => /\.test\.|__fixtures__|\/fixtures\/|\.ts$/.test(file) && !file.endsWith('.d.ts');

let failures = 0;
for (const name of fs.readdirSync(path.join(root, 'packages')).sort()) {
  const dir = path.join(root, 'packages', name);
  const problems = [];
  const run = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      problems.push(`${path.basename(cmd)} ${args.join(' ')} failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
      return '';
    }
  };
  run(bin('publint'), ['--strict']);
  run(bin('attw'), ['--pack', '.', '--profile', 'esm-only', '--format', 'table-flipped']);
  const packed = JSON.parse(run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts']) || '[{"files":[]}]');
  const files = packed[0].files.map((f) => f.path).sort();
  for (const f of files) {
    if (!allowed(f)) problems.push(`npm pack would ship ${f} (only dist/, README.md, LICENSE, package.json may ship)`);
    else if (forbidden(f)) problems.push(`npm pack would ship a test, fixture or source file: ${f}`);
  }
  for (const need of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']) {
    if (!files.includes(need)) problems.push(`npm pack is missing ${need}`);
  }
  const kb = (packed[0].size ?? 0) / 1024;
  if (problems.length) {
    failures++;
    console.log(`✗ @cs336/${name}\n  ${problems.join('\n  ')}`);
  } else {
    console.log(`✓ @cs336/${name}: publint, attw (esm-only) ok; ${files.length} files, ${kb.toFixed(1)} kB packed`);
  }
}
process.exit(failures ? 1 : 0);
