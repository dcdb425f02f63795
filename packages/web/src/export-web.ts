/**
 * exportWebSite: a trained checkpoint → a static folder that generates text in the browser.
 *   index.html, app.js        the page (bundled at build time from page/, see scripts/bundle-page.mjs)
 *   site.json                 model config, graph names, stop token, defaults (site-manifest.ts)
 *   model/prefill.onnx        @cs336/train's prefill graph (prompt → logits + KV cache)
 *   model/decode_step.onnx    its decode-step graph (one token + KV cache → logits + longer cache)
 *   model/weights.bin         in `external` and `inputs` modes; with `initializers` the weights are in both graphs
 *   model/tokenizer.json      the tokenizer as a Hugging Face ByteLevel BPE tokenizer.json (its added tokens are the specials)
 *   ort/                      onnxruntime-web's wasm build, so the page works offline
 * The folder is assembled beside `out` and renamed into place: a failed export leaves nothing half written.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTokenizerJson } from '@cs336/bpe';
import { parameterCount, resolveTransformerConfig, transformerParameters, type TransformerConfig } from '@cs336/nn';
import type { Tokenizer } from '@cs336/tokenizer';
import {
  IDS_INPUT, LAST_POSITION_INPUT, LOGITS_OUTPUT, POSITION_INPUT, buildDecodeStepGraph, buildPrefillGraph, kvName, loadCheckpoint,
} from '@cs336/train';
import { bakeParameters, type ExternalWeights } from '@cs336/graph';
import {
  EXTERNAL_WEIGHTS_LOCATION, ORT_DIR, SITE_FORMAT, SITE_MANIFEST_FILE, WEIGHTS_MODES, type SiteManifest, type SiteParameter, type WeightsMode,
} from './site-manifest.js';

export const END_OF_TEXT = '<|endoftext|>';
/** onnxruntime-web files the page loads: the wasm-only ES module and the SIMD + threads WebAssembly build it picks. */
export const ORT_FILES = ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'] as const;
const PAGE_FILES = ['index.html', 'app.js'] as const;

export interface ExportWebOptions {
  /** A run directory or its checkpoint.safetensors. */
  checkpoint: string;
  /** The tokenizer the model was trained with (checked against the checkpoint's tokenizer hash). */
  tokenizer: Tokenizer;
  /** The site folder; replaced if it holds an earlier export, refused if it holds anything else. */
  out: string;
  /** Default `external` (see WeightsMode): one download of the weights, pre-packed once as initializers. */
  weights?: WeightsMode;
  /** What the page starts with. */
  defaults?: Partial<SiteManifest['defaults']>;
}

export interface ExportWebResult {
  out: string;
  manifest: SiteManifest;
  /** Every file written, relative to `out`, with its size in bytes. */
  files: Array<{ path: string; bytes: number }>;
}

const localRequire = createRequire(import.meta.url);

/** dist/page of this package, from src/ (tests) as from dist/ (published). */
function pageDir(): string {
  return fileURLToPath(new URL('../dist/page/', import.meta.url));
}

function ortDir(): { dir: string; version: string } {
  const wasm = localRequire.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm');
  const dir = path.dirname(wasm);
  const version = (JSON.parse(fs.readFileSync(path.join(dir, '..', 'package.json'), 'utf8')) as { version: string }).version;
  return { dir, version };
}

/** The tokenizer as the page's tokenizer.json (Hugging Face format; the page reads it with Tokenizer.fromTokenizerJsonText). */
export function siteTokenizer(tokenizer: Tokenizer): string {
  const { vocab, merges, specialTokens } = tokenizer.toModel();
  return formatTokenizerJson(vocab, merges, specialTokens);
}

function checkOut(out: string): void {
  if (!fs.existsSync(out)) return;
  if (!fs.statSync(out).isDirectory()) throw new Error(`--out ${out} is a file; give a folder for the site`);
  const entries = fs.readdirSync(out);
  if (entries.length > 0 && !entries.includes(SITE_MANIFEST_FILE)) {
    throw new Error(`--out ${out} is not empty and holds no earlier export (${SITE_MANIFEST_FILE}); choose an empty or new folder`);
  }
}

function graphNames(model: TransformerConfig): SiteManifest['names'] {
  const layers = Array.from({ length: model.numLayers }, (_, i) => i);
  return {
    ids: IDS_INPUT, lastPosition: LAST_POSITION_INPUT, position: POSITION_INPUT, logits: LOGITS_OUTPUT,
    past: layers.map((i) => [kvName('past', i, 'k'), kvName('past', i, 'v')]),
    present: layers.map((i) => [kvName('present', i, 'k'), kvName('present', i, 'v')]),
  };
}

export function exportWebSite(options: ExportWebOptions): ExportWebResult {
  const weights = options.weights ?? 'external';
  if (!WEIGHTS_MODES.includes(weights)) throw new Error(`weights must be one of ${WEIGHTS_MODES.join(', ')}, got ${JSON.stringify(weights)}`);
  const out = path.resolve(options.out);
  checkOut(out);
  const page = pageDir();
  for (const file of PAGE_FILES) {
    if (!fs.existsSync(path.join(page, file))) throw new Error(`@cs336/web: the page bundle ${path.join(page, file)} is missing; build the package first (pnpm build)`);
  }
  const ort = ortDir();

  const checkpoint = loadCheckpoint(options.checkpoint);
  const model = resolveTransformerConfig(checkpoint.metadata.modelConfig as Partial<TransformerConfig>);
  const { tokenizer } = options;
  const trainedWith = checkpoint.metadata.tokenizerHash;
  if (trainedWith && trainedWith !== tokenizer.hash()) {
    throw new Error(`this tokenizer (hash ${tokenizer.hash().slice(0, 12)}) is not the one the model's training data was tokenized with (${trainedWith.slice(0, 12)}); pass that tokenizer`);
  }
  if (tokenizer.vocabSize > model.vocabSize) throw new Error(`the tokenizer has ${tokenizer.vocabSize} ids but the model's vocabulary has ${model.vocabSize}; use the tokenizer the model was trained with`);
  const specs = transformerParameters(model);
  const parameters = new Map<string, Float32Array>();
  for (const spec of specs) {
    const tensor = checkpoint.parameters.get(spec.name);
    if (!tensor) throw new Error(`${options.checkpoint}: the checkpoint lacks parameter "${spec.name}"`);
    parameters.set(spec.name, tensor.data instanceof Float32Array ? tensor.data : Float32Array.from(tensor.data as ArrayLike<number>));
  }

  const temp = `${out}.tmp-${process.pid}`;
  fs.rmSync(temp, { recursive: true, force: true });
  const files: ExportWebResult['files'] = [];
  const write = (relative: string, data: string | Uint8Array) => {
    const file = path.join(temp, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data);
    files.push({ path: relative, bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength });
  };
  const copy = (from: string, relative: string) => write(relative, fs.readFileSync(from));
  try {
    const graphs = { prefill: buildPrefillGraph(model), decodeStep: buildDecodeStepGraph(model) };
    const siteFiles: SiteManifest['files'] = { prefill: 'model/prefill.onnx', decodeStep: 'model/decode_step.onnx', tokenizer: 'model/tokenizer.json' };
    let siteParameters: SiteParameter[] | undefined;
    let external: ExternalWeights | undefined;
    if (weights !== 'initializers') {
      siteFiles.weights = 'model/weights.bin';
      siteParameters = [];
      const all = new Float32Array(parameterCount(specs));
      let offset = 0;
      for (const spec of specs) {
        const data = parameters.get(spec.name)!;
        all.set(data, offset);
        siteParameters.push({ name: spec.name, shape: [...spec.shape], offset });
        offset += data.length;
      }
      write(siteFiles.weights, new Uint8Array(all.buffer));
      if (weights === 'external') {
        external = { location: EXTERNAL_WEIGHTS_LOCATION, byteOffsets: new Map(siteParameters.map((p) => [p.name, p.offset * 4])) };
      }
    }
    for (const [key, graph] of Object.entries(graphs) as Array<[keyof typeof graphs, (typeof graphs)[keyof typeof graphs]]>) {
      const bytes = graph.toModel({ producer: '@cs336/web' });
      write(siteFiles[key], weights === 'inputs' ? bytes : bakeParameters(bytes, parameters, external));
    }
    write(siteFiles.tokenizer, siteTokenizer(tokenizer));
    const { metadata } = checkpoint;
    const stopToken = tokenizer.specialTokenId(END_OF_TEXT);
    const manifest: SiteManifest = {
      format: SITE_FORMAT,
      model: { ...pick(model), parameterCount: parameterCount(specs) },
      checkpoint: { step: metadata.step, tokensSeen: metadata.tokensSeen, ...(metadata.bestValidationLoss !== undefined ? { bestValidationLoss: metadata.bestValidationLoss } : {}) },
      weights,
      files: siteFiles,
      ...(siteParameters ? { parameters: siteParameters } : {}),
      names: graphNames(model),
      ...(stopToken !== undefined ? { stopToken } : {}),
      endOfText: END_OF_TEXT,
      defaults: { prompt: 'Once upon a time', temperature: 0.8, topP: 0.95, maxNewTokens: 128, seed: 0, ...options.defaults },
      onnxruntimeWeb: ort.version,
    };
    for (const file of ORT_FILES) copy(path.join(ort.dir, file), `${ORT_DIR}/${file}`);
    for (const file of PAGE_FILES) copy(path.join(page, file), file);
    // The manifest last: its presence marks a complete export (checkOut replaces only folders that have one).
    write(SITE_MANIFEST_FILE, `${JSON.stringify(manifest, null, 2)}\n`);
    replaceFolder(temp, out);
    return { out, manifest, files };
  } catch (error) {
    fs.rmSync(temp, { recursive: true, force: true });
    throw error;
  }
}

function pick(model: TransformerConfig): Omit<SiteManifest['model'], 'parameterCount'> {
  const { vocabSize, contextLength, dModel, numLayers, numHeads, dFf } = model;
  return { vocabSize, contextLength, dModel, numLayers, numHeads, dFf };
}

/** Moves the finished `temp` folder to `out`, replacing an earlier export (renames only, so `out` is never half written). */
function replaceFolder(temp: string, out: string): void {
  if (!fs.existsSync(out)) {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.renameSync(temp, out);
    return;
  }
  const old = `${out}.old-${process.pid}`;
  fs.renameSync(out, old);
  try {
    fs.renameSync(temp, out);
  } catch (error) {
    fs.renameSync(old, out);
    throw error;
  }
  fs.rmSync(old, { recursive: true, force: true });
}
