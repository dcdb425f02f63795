/**
 * `cs336 export web` end to end: train a tiny model with the CLI, export it, serve it with
 * `--serve`, open the page in headless Chromium (Debian's chromium driven by playwright-core), type a
 * prompt, and check that the page's greedy output is `cs336 generate --temperature 0`'s, token for
 * token. Without Chromium (apt-get install chromium; .ci/run does) the browser tests skip, saying why.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { serveSite } from '@cs336/web';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(here, '../cli.ts');
const CHILD_TSCONFIG = path.join(here, '../../../../packages/train/test/tsconfig.child.json');
const CHROMIUM = process.env.CS336_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium) console.log(`cs336 export web: browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CS336_CHROMIUM)`);
const describeWithBrowser = haveChromium ? describe : describe.skip;

interface Run { code: number | null; stdout: string; stderr: string }

function start(args: string[]): { child: ChildProcess; done: Promise<Run>; stderr: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TSX_TSCONFIG_PATH: CHILD_TSCONFIG } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const done = new Promise<Run>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, done, stderr: () => stderr };
}
const cs336 = (args: string[]) => start(args).done;

async function expectOk(run: Promise<Run>): Promise<Run> {
  const result = await run;
  if (result.code !== 0) throw new Error(`cs336 exited ${result.code}:\n${result.stderr}`);
  return result;
}

/** A fresh headless Chromium with the flags that keep it off the network. */
async function launchChromium(userDataDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** Waits for the page's current generation to finish and returns its ids and generated text. */
async function finished(page: Page): Promise<{ ids: number[]; text: string; tokensPerSecond: number }> {
  await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]', { timeout: 60_000 });
  const state = await page.getAttribute('#status', 'data-state');
  if (state !== 'done') throw new Error(`the page failed: ${await page.textContent('#status')}`);
  return {
    ids: JSON.parse((await page.getAttribute('#output', 'data-ids'))!) as number[],
    text: (await page.textContent('#output .generated'))!,
    tokensPerSecond: Number(await page.getAttribute('#status', 'data-tokens-per-second')),
  };
}

let dir: string;
const run = () => path.join(dir, 'run');

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-export-web-'));
  const sentences = ['the cat sat on the mat.', 'a dog ran to the park.', 'the bird sang a song.', 'we like to read books.'];
  fs.writeFileSync(path.join(dir, 'text.txt'), Array.from({ length: 400 }, (_, i) => sentences[(i * 7) % 4]).join(' ') + '<|endoftext|>');
  await expectOk(cs336(['bpe', 'train', '--input', path.join(dir, 'text.txt'), '--vocab-size', '300', '--special-token', '<|endoftext|>', '--out', path.join(dir, 'tok'), '--workers', '1']));
  await expectOk(cs336(['tokenize', '--tokenizer', path.join(dir, 'tok'), '--input', path.join(dir, 'text.txt'), '--out', path.join(dir, 'tokens.bin'), '--workers', '0']));
  const config = path.join(dir, 'cfg.json');
  // Context 32 < prompt + 40 new tokens: the window slides, so both graphs (prefill again after the slide) are exercised.
  fs.writeFileSync(config, JSON.stringify({
    model: { vocabSize: 300, contextLength: 32, dModel: 32, numLayers: 2, numHeads: 2, dFf: 64 },
    tokenizer: path.join(dir, 'tok'), trainData: path.join(dir, 'tokens.bin'), validationData: path.join(dir, 'tokens.bin'), runDir: run(),
    batchSize: 8, steps: 200, stepsPerRun: 10, warmupSteps: 5, maxLearningRate: 0.01, evalEvery: 100, evalBatches: 1, checkpointEvery: 1000, threads: 1,
  }));
  await expectOk(cs336(['train', '--config', config]));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describeWithBrowser('cs336 export web in headless Chromium', () => {
  it('generates as the user types, greedily the same tokens as cs336 generate --temperature 0, in every weights mode', async () => {
    const site = path.join(dir, 'site');
    const served = start(['export', 'web', '--checkpoint', run(), '--out', site, '--serve', '--port', '0']);
    const generated = ['the cat', 'the cat sat'].map((prompt) => expectOk(cs336(['generate', '--checkpoint', run(), '--prompt', prompt, '--temperature', '0', '--max-new-tokens', '40'])));
    const otherModes = ['initializers', 'inputs'];
    for (const weights of otherModes) {
      await expectOk(cs336(['export', 'web', '--checkpoint', run(), '--tokenizer', path.join(dir, 'tok'), '--out', path.join(dir, `site-${weights}`), '--weights', weights]));
    }
    let url: string | undefined;
    for (let i = 0; i < 600 && !url; i++) {
      url = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(served.stderr())?.[1];
      if (!url) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (!url) throw new Error(`cs336 export web --serve printed no URL:\n${served.stderr()}`);
    const [first, second] = await Promise.all(generated);
    const context = await launchChromium(fs.mkdtempSync(path.join(dir, 'chromium-')));
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      const requests: string[] = [];
      page.on('request', (request) => { if (!request.url().startsWith('data:')) requests.push(request.url()); });
      await page.goto(url);
      await page.waitForSelector('#status[data-state="ready"]', { timeout: 60_000 });
      await page.fill('#temperature', '0');
      await page.fill('#max-tokens', '40');
      await page.fill('#prompt', 'the cat'); // an input event: generation starts once typing pauses
      const a = await finished(page);
      expect(a.ids.length).toBeGreaterThanOrEqual(32);
      expect(`the cat${a.text}\n`).toBe(first!.stdout);
      await page.focus('#prompt');
      await page.keyboard.press('End');
      await page.keyboard.type(' sat'); // keep typing: the page starts over on the longer prompt
      const b = await finished(page);
      expect(b.ids.length).toBeGreaterThanOrEqual(32);
      expect(`the cat sat${b.text}\n`).toBe(second!.stdout);
      const loadMs = Number(await page.getAttribute('#model-info', 'data-load-ms'));
      await page.screenshot({ path: process.env.CS336_SCREENSHOT ?? path.join(dir, 'page.png') });

      for (const weights of otherModes) {
        const server = await serveSite(path.join(dir, `site-${weights}`));
        try {
          const other = await context.newPage();
          await other.goto(server.url);
          await other.waitForSelector('#status[data-state="ready"]', { timeout: 60_000 });
          await other.fill('#temperature', '0');
          await other.fill('#max-tokens', '40');
          await other.fill('#prompt', 'the cat');
          expect((await finished(other)).ids).toEqual(a.ids);
          expect(await other.textContent('#model-info')).toContain(`weights as ${weights}`);
        } finally {
          await server.close();
        }
      }
      expect(errors).toEqual([]);
      // Offline: the page, onnxruntime-web's JS and wasm, the graphs and the tokenizer all come from the site.
      expect(requests.filter((r) => !r.startsWith(url!))).toEqual([]);
      expect(requests).toEqual(expect.arrayContaining([`${url}ort/ort-wasm-simd-threaded.wasm`, `${url}model/decode_step.onnx`]));
      console.log(`export web page: loaded in ${loadMs} ms, ${a.tokensPerSecond} tokens/s greedy (${a.ids.length} tokens; noisy shared machine)`);
    } finally {
      await context.close();
      served.child.kill('SIGINT');
    }
    expect((await served.done).code).toBe(0);
  });
});

describe('cs336 export web flags', () => {
  it('exits 2 on bad flags and 1 on a missing checkpoint, naming the problem, and writes nothing', async () => {
    const out = path.join(dir, 'bad-site');
    const [noOut, badWeights, portWithoutServe, missing] = await Promise.all([
      cs336(['export', 'web', '--checkpoint', run()]),
      cs336(['export', 'web', '--checkpoint', run(), '--out', out, '--weights', 'fp8']),
      cs336(['export', 'web', '--checkpoint', run(), '--out', out, '--port', '9000']),
      cs336(['export', 'web', '--checkpoint', path.join(dir, 'nope'), '--tokenizer', path.join(dir, 'tok'), '--out', out]),
    ]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/--checkpoint and --out are required/);
    expect(badWeights.code).toBe(2);
    expect(badWeights.stderr).toMatch(/--weights must be one of external, initializers, inputs; got "fp8"/);
    expect(portWithoutServe.code).toBe(2);
    expect(portWithoutServe.stderr).toMatch(/--port is only for --serve/);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no checkpoint at .*nope/);
    expect(fs.existsSync(out)).toBe(false);
  });
});
