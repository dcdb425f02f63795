// Sums every package's jest results into one closing line: "N passed, N failed, N skipped".
import fs from 'node:fs';
import path from 'node:path';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
let passed = 0, failed = 0, skipped = 0, missing = [];
for (const group of ['packages', 'apps']) {
  for (const name of fs.readdirSync(path.join(root, group))) {
    const file = path.join(root, group, name, 'test-results.json');
    if (!fs.existsSync(file)) { missing.push(`${group}/${name}`); continue; }
    const r = JSON.parse(fs.readFileSync(file, 'utf8'));
    passed += r.passed; failed += r.failed + r.suitesFailed; skipped += r.skipped;
  }
}
if (missing.length) console.log(`no test results from: ${missing.join(', ')}`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || missing.length > 0 ? 1 : 0);
