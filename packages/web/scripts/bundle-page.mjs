// Bundles the page (page/main.ts → dist/page/app.js, esbuild, browser platform) and copies index.html
// beside it. onnxruntime-web stays external: index.html's import map points it at the site's ort/ folder.
// The bundle must not reach Node built-ins; if an import pulls one in, the build names it and fails.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out = path.join(root, 'dist/page');
fs.mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: [path.join(root, 'page/main.ts')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  external: ['onnxruntime-web/wasm'],
  outfile: path.join(out, 'app.js'),
  metafile: true,
  logLevel: 'warning',
});
fs.copyFileSync(path.join(root, 'page/index.html'), path.join(out, 'index.html'));
const inputs = Object.keys(result.metafile.inputs);
// platform 'browser' already refuses to resolve node:* imports; this catches a bare 'fs' marked empty by a browser field.
const nodeOnly = inputs.filter((file) => file.startsWith('node:') || file.includes('(disabled)'));
if (nodeOnly.length > 0) throw new Error(`the page bundle pulls in Node-only modules: ${nodeOnly.join(', ')}`);
const bytes = fs.statSync(path.join(out, 'app.js')).size;
console.log(`page bundle: dist/page/app.js ${(bytes / 1024).toFixed(1)} kB from ${inputs.length} modules`);
