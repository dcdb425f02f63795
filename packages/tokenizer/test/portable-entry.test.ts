/**
 * The package's main entry outside Node. esbuild bundles `@cs336/tokenizer` for the browser platform
 * (so the export map's `default` condition, dist/portable.js), and the bundle runs where no Node
 * global exists: a `vm` context holding only the web globals the tokenizer needs, and a real headless
 * Chromium when /usr/bin/chromium is installed (.ci/run installs it), on a page and in a web worker.
 * Each builds GPT-2 from the course's vocab.json + merges.txt texts and must give tiktoken's ids (the
 * course fixture), the ids this Node process gives, and the same hash; the bundled `/gpt2` encoding
 * must give the same.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { build } from 'esbuild';
import { describeWithFixtures, fixturePath, projectFixturePath } from '../../../test-support/fixtures.js';
import { Tokenizer } from '../src/index.js';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

interface ExpectedCase {
  name: string;
  ids: number[];
  text?: string;
  file?: string;
}

/** What the bundle computes, wherever it runs: per case the ids, plus counts and the hash. */
const PROBE = `async (vocabJson, mergesText, texts) => {
  const { Tokenizer, gpt2 } = globalThis.cs336tokenizer;
  const tokenizer = Tokenizer.fromGpt2Text(vocabJson, mergesText, ['<|endoftext|>']);
  const ids = texts.map((text) => tokenizer.encode(text));
  const counts = texts.map((text) => tokenizer.countTokens(text));
  const roundTrips = texts.map((text, i) => tokenizer.decode(ids[i]) === text);
  const bundled = await gpt2();
  const gpt2Ids = texts.map((text) => bundled.encode(text));
  return JSON.stringify({ ids, counts, roundTrips, hash: tokenizer.hash(), hasFileApi: 'fromFiles' in Tokenizer, gpt2Ids, gpt2Hash: bundled.hash() });
}`;

interface ProbeResult {
  ids: number[][];
  counts: number[];
  roundTrips: boolean[];
  hash: string;
  hasFileApi: boolean;
  gpt2Ids: number[][];
  gpt2Hash: string;
}

/** Bundles the package's main and `/gpt2` entries by name, as a browser app would (IIFE, one global). */
async function bundleMainEntry(): Promise<{ code: string; inputs: string[] }> {
  const result = await build({
    stdin: { contents: "export * from '@cs336/tokenizer'; export { gpt2 } from '@cs336/tokenizer/gpt2';", resolveDir: packageDir, loader: 'js' },
    absWorkingDir: packageDir, // metafile input paths are relative to it
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'cs336tokenizer',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) };
}

describeWithFixtures('the main entry bundled for browsers', () => {
  const expectedFile = projectFixturePath('tiktoken-gpt2-expected-ids.json');
  let cases: ExpectedCase[];
  let texts: string[];
  let vocabJson: string;
  let mergesText: string;
  let bundle: { code: string; inputs: string[] };
  let node: Tokenizer;

  beforeAll(async () => {
    cases = (JSON.parse(fs.readFileSync(expectedFile, 'utf8')) as { cases: ExpectedCase[] }).cases;
    texts = cases.map((c) => (c.file ? fs.readFileSync(fixturePath(c.file), 'utf8') : c.text!));
    vocabJson = fs.readFileSync(fixturePath('gpt2_vocab.json'), 'utf8');
    mergesText = fs.readFileSync(fixturePath('gpt2_merges.txt'), 'utf8');
    bundle = await bundleMainEntry();
    node = await Tokenizer.fromFiles(fixturePath('gpt2_vocab.json'), fixturePath('gpt2_merges.txt'), ['<|endoftext|>']);
  });

  const checkProbe = (result: ProbeResult) => {
    expect(result.ids).toEqual(cases.map((c) => c.ids));
    expect(result.ids).toEqual(texts.map((text) => node.encode(text)));
    expect(result.counts).toEqual(cases.map((c) => c.ids.length));
    expect(result.roundTrips.every(Boolean)).toBe(true);
    expect(result.hash).toBe(node.hash());
    expect(result.hasFileApi).toBe(false);
    expect(result.gpt2Ids).toEqual(result.ids);
    expect(result.gpt2Hash).toBe(node.hash());
  };

  it('resolves to the portable build, which imports no Node built-in', () => {
    const ours = bundle.inputs.filter((input) => input.startsWith('dist/'));
    expect(ours).toContain('dist/portable.js');
    expect(ours).toContain('dist/gpt2.js');
    expect(ours.filter((input) => /^dist\/(index|node-tokenizer|gpt2-node|encode-file|range-encoder)\.js$/.test(input))).toEqual([]);
    expect(bundle.inputs.filter((input) => input.startsWith('node:') || /^(fs|os|path|crypto|worker_threads)$/.test(input))).toEqual([]);
  });

  it('encodes the course fixtures to tiktoken\'s ids in a vm context without require, process or Buffer', async () => {
    // Only what browsers, Deno, Bun and workers all have and the tokenizer uses.
    const context = vm.createContext({ TextEncoder, TextDecoder, atob });
    expect(vm.runInContext('[typeof require, typeof process, typeof Buffer, typeof module]', context)).toEqual(['undefined', 'undefined', 'undefined', 'undefined']);
    vm.runInContext(bundle.code, context);
    const probe = vm.runInContext(PROBE, context) as (vocabJson: string, mergesText: string, texts: string[]) => Promise<string>;
    checkProbe(JSON.parse(await probe(vocabJson, mergesText, texts)) as ProbeResult);
  });

  const inChromium = fs.existsSync(CHROMIUM) ? it : it.skip;
  if (!fs.existsSync(CHROMIUM)) console.log(`skipping the headless Chromium run: no browser at ${CHROMIUM} (apt-get install chromium); the vm run still checks the bundle`);
  inChromium('encodes the course fixtures to tiktoken\'s ids in headless Chromium, on the page and in a web worker', async () => {
    const { chromium } = await import('playwright-core');
    const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs336-chromium-'));
    // A fresh profile each run; playwright adds --headless and wants the profile as a parameter.
    const browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = browser.pages()[0] ?? (await browser.newPage());
      await page.setContent('<!doctype html><title>tokenizer</title>');
      await page.addScriptTag({ content: bundle.code });
      expect(await page.evaluate('[typeof require, typeof process, typeof Buffer]')).toEqual(['undefined', 'undefined', 'undefined']);
      type Probe = (vocabJson: string, mergesText: string, texts: string[]) => Promise<string>;
      const json = await page.evaluate(({ probe, args }) => (eval(probe) as Probe)(...args), { probe: PROBE, args: [vocabJson, mergesText, texts] as [string, string, string[]] });
      checkProbe(JSON.parse(json) as ProbeResult);

      // The same bundle in a web worker (a classic one: the IIFE defines its global on `self`).
      const fromWorker = await page.evaluate(({ code, probe, args }) => {
        const source = `${code}\nself.onmessage = async (event) => postMessage(await (${probe})(...event.data));`;
        // The browser's Worker (this file is typed against Node, whose Worker is worker_threads').
        type BrowserWorker = { onmessage: (event: { data: unknown }) => void; onerror: (event: { message: string }) => void; postMessage: (data: unknown) => void };
        const { Worker } = globalThis as unknown as { Worker: new (url: string) => BrowserWorker };
        const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
        return new Promise<string>((resolve, reject) => {
          worker.onmessage = (event) => resolve(event.data as string);
          worker.onerror = (event) => reject(new Error(event.message));
          worker.postMessage(args);
        });
      }, { code: bundle.code, probe: PROBE, args: [vocabJson, mergesText, texts] as [string, string, string[]] });
      checkProbe(JSON.parse(fromWorker) as ProbeResult);
    } finally {
      await browser.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    }
  });
});
