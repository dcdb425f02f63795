/**
 * The exported page against `cs336 generate` on this machine's CPU, printed as JSON:
 *  - export: seconds and bytes of each weights mode (baked initializers, external data, weights fed as inputs),
 *  - load: the page's load time (navigation → both sessions open and the tokenizer built; median of
 *    BENCH_RUNS fresh pages) per weights mode, in headless Chromium (onnxruntime-web, wasm),
 *  - generate: greedy tokens/s for BENCH_TOKENS tokens from the same prompt, in the page (per weights
 *    mode) and in Node (InferenceModel + generate(), what `cs336 generate` runs; 1 thread, like the page
 *    on this 2-core machine, and ORT's default), and whether the page's ids equal Node's; and in Node with
 *    the page's baked graphs (1 thread), which tells the cost of feeding the weights from the runtime's.
 * The model is TinyStories-shaped (d 512, 4 layers, 16 heads, T 256, vocab 10k, as @cs336/train's
 * bench) with fresh weights: speed does not depend on training. Tokenizer: BPE 10k on gutenberg valid.
 * Run: pnpm --filter @cs336/web bench (after pnpm build; needs Chromium: apt-get install chromium).
 * Env: BENCH_RUNS (3), BENCH_TOKENS (128), CS336_DATA, CS336_CHROMIUM.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { Session, type HostTensor } from '@cs336/graph';
import { resolveTransformerConfig, type TransformerConfig } from '@cs336/nn';
import { trainBpe } from '@cs336/bpe';
import { Tokenizer } from '@cs336/tokenizer';
import {
  IDS_INPUT, InferenceModel, LAST_POSITION_INPUT, LOGITS_OUTPUT, POSITION_INPUT, buildDecodeStepGraph, buildPrefillGraph, generate, kvName, loadCheckpoint,
  type NextTokenModel,
} from '@cs336/train';
import { bakeParameters, exportWebSite, serveSite, type WeightsMode } from '../src/index.js';
import { saveTinyCheckpoint } from '../test/tiny-checkpoint.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const runs = Number(process.env.BENCH_RUNS ?? 3);
const tokens = Number(process.env.BENCH_TOKENS ?? 128);
const dataDir = process.env.CS336_DATA ?? path.join(here, '../../../../shared/data');
const chromiumPath = process.env.CS336_CHROMIUM ?? '/usr/bin/chromium';
const MODEL = { vocabSize: 10_000, contextLength: 256, dModel: 512, numLayers: 4, numHeads: 16, dFf: 1344 };
const PROMPT = 'Once upon a time there was a little girl who';

/** InferenceModel's KV-cache rule over graphs with the weights baked in, in onnxruntime-node. */
class BakedNodeModel implements NextTokenModel {
  private cached: { ids: number[]; past: Record<string, HostTensor> } | undefined;
  private constructor(private readonly model: TransformerConfig, private readonly prefill: Session, private readonly step: Session) {}
  get contextLength() { return this.model.contextLength; }
  get vocabSize() { return this.model.vocabSize; }
  static async create(runDir: string, threads: number): Promise<BakedNodeModel> {
    const checkpoint = loadCheckpoint(runDir);
    const model = resolveTransformerConfig(checkpoint.metadata.modelConfig as Partial<TransformerConfig>);
    const parameters = new Map([...checkpoint.parameters].map(([name, t]) => [name, t.data as Float32Array]));
    const open = (bytes: Uint8Array) => Session.create(bakeParameters(bytes, parameters), { threads });
    return new BakedNodeModel(model, await open(buildPrefillGraph(model).toModel()), await open(buildDecodeStepGraph(model).toModel()));
  }
  async nextTokenLogits(ids: readonly number[]): Promise<Float32Array> {
    const int64 = (values: number[], dims: number[]): HostTensor => ({ dtype: 'int64', dims, data: BigInt64Array.from(values, BigInt) });
    const previous = this.cached;
    let out: Record<string, HostTensor>;
    if (previous && ids.length === previous.ids.length + 1 && previous.ids.every((id, i) => id === ids[i])) {
      out = await this.step.run({ [IDS_INPUT]: int64([ids.at(-1)!], [1, 1]), [POSITION_INPUT]: int64([previous.ids.length], [1]), ...previous.past });
    } else {
      out = await this.prefill.run({ [IDS_INPUT]: int64([...ids], [1, ids.length]), [LAST_POSITION_INPUT]: int64([ids.length - 1], []) });
    }
    const past: Record<string, HostTensor> = {};
    for (let i = 0; i < this.model.numLayers; i++) for (const part of ['k', 'v'] as const) past[kvName('past', i, part)] = out[kvName('present', i, part)]!;
    this.cached = { ids: [...ids], past };
    return out[LOGITS_OUTPUT]!.data as Float32Array;
  }
  async release(): Promise<void> { await this.prefill.release(); await this.step.release(); }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function pageRun(page: Page, url: string): Promise<{ loadMs: number; tokensPerSecond: number; ids: number[] }> {
  await page.goto(url);
  await page.waitForSelector('#status[data-state="ready"], #status[data-state="error"]', { timeout: 300_000 });
  const loadMs = Number(await page.getAttribute('#model-info', 'data-load-ms'));
  await page.fill('#temperature', '0');
  await page.fill('#max-tokens', String(tokens));
  await page.fill('#prompt', PROMPT);
  await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]', { timeout: 300_000 });
  if ((await page.getAttribute('#status', 'data-state')) !== 'done') throw new Error(`page failed: ${await page.textContent('#status')}`);
  return {
    loadMs,
    tokensPerSecond: Number(await page.getAttribute('#status', 'data-tokens-per-second')),
    ids: JSON.parse((await page.getAttribute('#output', 'data-ids'))!) as number[],
  };
}

async function main(): Promise<void> {
  if (!fs.existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath}; apt-get install chromium, or set CS336_CHROMIUM`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'web-bench-'));
  try {
    const bpe = await trainBpe({ input: path.join(dataDir, 'gutenberg-children/valid.txt'), vocabSize: MODEL.vocabSize, specialTokens: ['<|endoftext|>'] });
    const tokenizer = new Tokenizer(bpe.vocab, bpe.merges, ['<|endoftext|>']);
    const runDir = path.join(dir, 'run');
    saveTinyCheckpoint(runDir, tokenizer, MODEL, 1);
    const promptIds = tokenizer.encode(PROMPT);

    // Each model's runs interleaved with the others', so a change in the machine's load hits them alike.
    const nodeModels: Record<string, NextTokenModel & { release(): Promise<void> }> = {
      threads1: await InferenceModel.fromCheckpoint(runDir, { threads: 1 }),
      threadsDefault: await InferenceModel.fromCheckpoint(runDir),
      bakedThreads1: await BakedNodeModel.create(runDir, 1),
    };
    const rates: Record<string, number[]> = {};
    const nodeIdsBy: Record<string, number[]> = {};
    for (const model of Object.values(nodeModels)) await generate(model, promptIds, { maxNewTokens: 8, temperature: 0 }); // warm-up
    for (let r = 0; r < runs; r++) {
      for (const [name, model] of Object.entries(nodeModels)) {
        const start = performance.now();
        nodeIdsBy[name] = await generate(model, promptIds, { maxNewTokens: tokens, temperature: 0 });
        (rates[name] ??= []).push(nodeIdsBy[name]!.length / ((performance.now() - start) / 1000));
      }
    }
    const node = Object.fromEntries(Object.entries(rates).map(([name, values]) => [name, median(values)]));
    for (const model of Object.values(nodeModels)) await model.release();
    const nodeIds = nodeIdsBy.threads1!;
    const nodeSameIds = Object.values(nodeIdsBy).every((ids) => ids.join() === nodeIds.join());

    const exports: Record<string, unknown> = {};
    const page: Record<string, unknown> = {};
    const context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(dir, 'chromium-')), {
      executablePath: chromiumPath, headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    try {
      const modes: WeightsMode[] = ['initializers', 'external', 'inputs'];
      const servers: Record<string, Awaited<ReturnType<typeof serveSite>>> = {};
      for (const weights of modes) {
        const start = performance.now();
        const result = exportWebSite({ checkpoint: runDir, tokenizer, out: path.join(dir, `site-${weights}`), weights });
        const modelBytes = result.files.filter((f) => f.path.startsWith('model/')).reduce((sum, f) => sum + f.bytes, 0);
        exports[weights] = { seconds: (performance.now() - start) / 1000, modelMB: modelBytes / 1e6, siteMB: result.files.reduce((s, f) => s + f.bytes, 0) / 1e6 };
        servers[weights] = await serveSite(result.out);
      }
      // Modes interleaved, a fresh tab each time, so a change in the machine's load hits them alike.
      const results: Record<string, Array<Awaited<ReturnType<typeof pageRun>>>> = {};
      for (let r = 0; r < runs; r++) {
        for (const weights of modes) {
          const tab = await context.newPage();
          (results[weights] ??= []).push(await pageRun(tab, servers[weights]!.url));
          await tab.close();
        }
      }
      for (const weights of modes) {
        await servers[weights]!.close();
        const list = results[weights]!;
        page[weights] = {
          loadMs: median(list.map((x) => x.loadMs)),
          loadMsRuns: list.map((x) => x.loadMs),
          tokensPerSecond: median(list.map((x) => x.tokensPerSecond)),
          tokensPerSecondRuns: list.map((x) => x.tokensPerSecond),
          sameIdsAsNode: list.every((x) => x.ids.join() === nodeIds.join()),
        };
      }
    } finally {
      await context.close();
    }
    console.log(JSON.stringify({
      machine: `${os.cpus()[0]?.model} × ${os.availableParallelism()}, Node ${process.version}`,
      chromium: (await import('node:child_process')).execFileSync(chromiumPath, ['--version'], { encoding: 'utf8' }).trim(),
      model: MODEL, promptTokens: promptIds.length, tokens, runs,
      export: exports, page, node: { tokensPerSecond: node, sameIds: nodeSameIds },
    }, null, 2));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
