/**
 * The tokenizer outside Node, against gpt-tokenizer and js-tiktoken (GPT-2's encoding in all three).
 * Prints one JSON object:
 *   - size: `npm pack` of each package, and per entry the minified esbuild bundle a browser app ships;
 *   - Node: import-to-first-encode, a fresh process per try, the libraries taking turns;
 *   - headless Chromium (/usr/bin/chromium): import-to-first-encode in a fresh page, and single-thread
 *     encode speed on gutenberg valid after checking that all three give the same ids.
 *
 *   pnpm --filter @cs336/tokenizer build && pnpm --filter @cs336/tokenizer bench:portable
 *   BENCH_QUICK=1 ... for a faster, rougher run.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { sharedDataDir } from '../../../test-support/fixtures.js';

const quick = process.env.BENCH_QUICK === '1';
const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SPECIAL = '<|endoftext|>';

/** Each library's GPT-2 as a browser app would load it: an ES module whose `load()` gives `encode`. */
const ENTRIES: Record<string, string> = {
  '@cs336/tokenizer/gpt2': "import { gpt2 } from '@cs336/tokenizer/gpt2'; export async function load() { const t = await gpt2(); return (s) => t.encode(s); }",
  'gpt-tokenizer/encoding/gpt2': "import { encode } from 'gpt-tokenizer/encoding/gpt2'; export async function load() { return encode; }",
  'js-tiktoken/lite + ranks/gpt2': "import { Tiktoken } from 'js-tiktoken/lite'; import gpt2 from 'js-tiktoken/ranks/gpt2'; export async function load() { const e = new Tiktoken(gpt2); return (s) => e.encode(s); }",
};
/** Entries measured for size only. */
const SIZE_ONLY: Record<string, string> = {
  '@cs336/tokenizer (main entry, browser)': "export { Tokenizer } from '@cs336/tokenizer';",
  'js-tiktoken (main entry, all encodings)': "export { getEncoding } from 'js-tiktoken';",
};
/** The same loads in Node, by package name (this package resolves itself through its export map). */
const NODE_LOADS: Record<string, string> = {
  '@cs336/tokenizer/gpt2': "const { gpt2 } = await import('@cs336/tokenizer/gpt2'); const t = await gpt2(); encode = (s) => t.encode(s);",
  'gpt-tokenizer/encoding/gpt2': "({ encode } = await import('gpt-tokenizer/encoding/gpt2'));",
  'js-tiktoken/lite + ranks/gpt2': "const { Tiktoken } = await import('js-tiktoken/lite'); const { default: ranks } = await import('js-tiktoken/ranks/gpt2'); const e = new Tiktoken(ranks); encode = (s) => e.encode(s);",
};
const FIRST_TEXT = 'Hello world, this is the first encode.';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number, digits = 1) => Number(value.toFixed(digits));

async function bundle(contents: string): Promise<string> {
  const result = await build({ stdin: { contents, resolveDir: packageDir, loader: 'js' }, bundle: true, platform: 'browser', format: 'esm', minify: true, write: false, logLevel: 'silent' });
  return result.outputFiles[0]!.text;
}

/** `npm pack --dry-run` of this package: tarball and unpacked bytes. */
function packSize(dir: string): { packedKB: number; unpackedKB: number } {
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as { size: number; unpackedSize: number }[];
  return { packedKB: round(packed!.size / 1024), unpackedKB: round(packed!.unpackedSize / 1024) };
}

/**
 * The same for an installed dependency, whose folder is what its npm tarball held (npm pack cannot
 * run there): the files' total size, and the folder as a .tar.gz.
 */
function installedSize(dir: string): { packedKB: number; unpackedKB: number } {
  const files = (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[]).filter((entry) => entry.isFile());
  const unpacked = files.reduce((sum, entry) => sum + fs.statSync(path.join(entry.parentPath, entry.name)).size, 0);
  const packed = execFileSync('tar', ['-czf', '-', '-C', dir, '.'], { maxBuffer: 1 << 30 }).length;
  return { packedKB: round(packed / 1024), unpackedKB: round(unpacked / 1024) };
}

function installedDir(name: string): string {
  return path.dirname(fs.realpathSync(path.join(packageDir, 'node_modules', name, 'package.json')));
}

/** Milliseconds from the start of a fresh Node process's first import to its first encode. */
function nodeFirstEncode(rounds: number): Record<string, { medianMs: number; runsMs: number[] }> {
  const runs: Record<string, number[]> = {};
  for (let r = 0; r < rounds; r++) {
    for (const [name, load] of Object.entries(NODE_LOADS)) {
      const script = `let encode; const t0 = performance.now(); ${load} const ids = encode(${JSON.stringify(FIRST_TEXT)}); console.log(performance.now() - t0, ids.length);`;
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: packageDir, encoding: 'utf8' });
      (runs[name] ??= []).push(round(Number(out.split(' ')[0])));
    }
  }
  // Importing this package without using GPT-2: what an app pays that only might need it.
  for (let r = 0; r < rounds; r++) {
    for (const [name, specifier] of [['import @cs336/tokenizer (no use)', '@cs336/tokenizer'], ['import @cs336/tokenizer/gpt2 (no use)', '@cs336/tokenizer/gpt2']] as const) {
      const script = `const t0 = performance.now(); await import('${specifier}'); console.log(performance.now() - t0);`;
      (runs[name] ??= []).push(round(Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: packageDir, encoding: 'utf8' }))));
    }
  }
  return Object.fromEntries(Object.entries(runs).map(([name, values]) => [name, { medianMs: median(values), runsMs: values }]));
}

async function inChromium(bundles: Record<string, string>, text: string, rounds: number) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs336-chromium-'));
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    // Import-to-first-encode: a fresh page per try, the module imported from a blob URL.
    const firstEncode: Record<string, number[]> = {};
    for (let r = 0; r < rounds; r++) {
      for (const [name, code] of Object.entries(bundles)) {
        const page = await browser.newPage();
        await page.setContent('<!doctype html><title>bench</title>');
        const ms = await page.evaluate(async ({ code, first }) => {
          const url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
          const t0 = performance.now();
          const module = (await import(url)) as { load: () => Promise<(s: string) => number[]> };
          (await module.load())(first);
          return performance.now() - t0;
        }, { code, first: FIRST_TEXT });
        (firstEncode[name] ??= []).push(round(ms));
        await page.close();
      }
    }

    // Encode speed: all three in one page, same ids first, then taking turns (one warm-up each).
    const page = await browser.newPage();
    await page.setContent('<!doctype html><title>bench</title>');
    const speed = await page.evaluate(async ({ bundles, text, rounds }) => {
      const encoders: Record<string, (s: string) => number[]> = {};
      for (const [name, code] of Object.entries(bundles)) {
        const module = (await import(URL.createObjectURL(new Blob([code], { type: 'text/javascript' })))) as { load: () => Promise<(s: string) => number[]> };
        encoders[name] = await module.load();
      }
      const megabytes = new TextEncoder().encode(text).length / 1e6;
      const [first, ...others] = Object.keys(encoders);
      const expected = encoders[first!]!(text);
      for (const name of others) {
        const ids = encoders[name]!(text);
        if (ids.length !== expected.length || ids.some((id, i) => id !== expected[i])) throw new Error(`${name} gives different ids from ${first}`);
      }
      const rates: Record<string, number[]> = {};
      for (let r = 0; r < rounds; r++) {
        for (const [name, encode] of Object.entries(encoders)) {
          const t0 = performance.now();
          encode(text);
          (rates[name] ??= []).push(megabytes / ((performance.now() - t0) / 1000));
        }
      }
      return { megabytes, tokens: expected.length, rates, userAgent: (globalThis as unknown as { navigator: { userAgent: string } }).navigator.userAgent };
    }, { bundles, text, rounds: rounds + 1 });
    return { firstEncode, speed };
  } finally {
    await browser.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

async function main() {
  const bundles: Record<string, string> = {};
  for (const [name, code] of Object.entries(ENTRIES)) bundles[name] = await bundle(code);
  const sizes: Record<string, { minifiedKB: number; gzipKB: number }> = {};
  for (const [name, code] of [...Object.entries(bundles), ...(await Promise.all(Object.entries(SIZE_ONLY).map(async ([n, c]) => [n, await bundle(c)] as const)))]) {
    sizes[name] = { minifiedKB: round(code.length / 1024), gzipKB: round(gzipSync(code, { level: 9 }).length / 1024) };
  }
  const npmPack = {
    '@cs336/tokenizer': packSize(packageDir),
    'gpt-tokenizer@4.0.0': installedSize(installedDir('gpt-tokenizer')),
    'js-tiktoken@1.0.21': installedSize(installedDir('js-tiktoken')),
  };

  const rounds = quick ? 3 : 7;
  const node = nodeFirstEncode(rounds);

  // The special token is taken out: gpt-tokenizer's gpt2 ignores allowedSpecial for it and
  // js-tiktoken throws on it by default (see tokenizer-bench.ts); all three then encode plain text.
  const full = fs.readFileSync(path.join(sharedDataDir(), 'gutenberg-children', 'valid.txt'), 'utf8').replaceAll(SPECIAL, '');
  const text = quick ? full.slice(0, 1_000_000) : full;
  let browser: Record<string, unknown> = { skipped: `no Chromium at ${CHROMIUM}` };
  if (fs.existsSync(CHROMIUM)) {
    const { firstEncode, speed } = await inChromium(bundles, text, rounds);
    const rates = Object.fromEntries(Object.entries(speed.rates).map(([name, values]) => [name, { medianMbPerSecond: round(median(values.slice(1))), bestMbPerSecond: round(Math.max(...values.slice(1))) }]));
    const ours = rates['@cs336/tokenizer/gpt2']!.medianMbPerSecond;
    browser = {
      browser: speed.userAgent,
      importToFirstEncode: Object.fromEntries(Object.entries(firstEncode).map(([name, values]) => [name, { medianMs: median(values), runsMs: values }])),
      encode: { corpus: 'gutenberg-children/valid.txt without <|endoftext|>', megabytes: round(speed.megabytes, 2), tokens: speed.tokens, idsIdentical: true, rates, oursOverOthersMedian: Object.fromEntries(Object.entries(rates).filter(([name]) => !name.startsWith('@cs336')).map(([name, r]) => [name, round(ours / r.medianMbPerSecond, 2)])) },
    };
  }

  console.log(
    JSON.stringify(
      {
        machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.arch()}` },
        note: 'single thread; the libraries take turns (speed: one warm-up, then rounds); a shared machine under load, so compare within this run',
        size: { npmPack, bundleMinified: sizes },
        node: { importToFirstEncode: node },
        chromium: browser,
      },
      null,
      2,
    ),
  );
}

await main();
