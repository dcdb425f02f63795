/**
 * The page: loads site.json, the tokenizer and both graphs, then generates as the user types, token
 * by token, with @cs336/train's generate() (the sampling code `cs336 generate` runs, so temperature 0
 * picks the same argmax, ties to the lowest id) and shows tokens/s. The prompt handling copies
 * `cs336 generate`: an empty prompt starts from <|endoftext|>, a long one keeps its last
 * contextLength ids, and generation stops after <|endoftext|>.
 */
import * as ort from 'onnxruntime-web/wasm';
import { Tokenizer } from '@cs336/tokenizer';
import { generate, resolveGenerateOptions, type NextTokenModel } from '@cs336/train/generate';
import { ORT_DIR, SITE_FORMAT, SITE_MANIFEST_FILE, type SiteManifest } from '../src/site-manifest.js';
import { WebModel } from './web-model.js';

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  info: element<HTMLDivElement>('model-info'),
  prompt: element<HTMLTextAreaElement>('prompt'),
  temperature: element<HTMLInputElement>('temperature'),
  topP: element<HTMLInputElement>('top-p'),
  maxTokens: element<HTMLInputElement>('max-tokens'),
  seed: element<HTMLInputElement>('seed'),
  generate: element<HTMLButtonElement>('generate'),
  stop: element<HTMLButtonElement>('stop'),
  output: element<HTMLDivElement>('output'),
  status: element<HTMLParagraphElement>('status'),
};

function setStatus(state: 'loading' | 'ready' | 'waiting' | 'generating' | 'done' | 'stopped' | 'error', text: string): void {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

async function fetchText(url: URL): Promise<string> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${url.pathname}: HTTP ${response.status}`);
  return response.text();
}

/** Lets the browser paint between tokens: a message-channel task, not setTimeout (clamped to ≥ 4 ms when nested). */
const channel = new MessageChannel();
const waiting: Array<() => void> = [];
channel.port1.onmessage = () => waiting.shift()?.();
const yieldToBrowser = () => new Promise<void>((resolve) => { waiting.push(resolve); channel.port2.postMessage(null); });

class Cancelled extends Error {}

function readNumber(input: HTMLInputElement, name: string): number {
  const value = Number(input.value);
  if (input.value.trim() === '' || !Number.isFinite(value)) throw new Error(`${name} must be a number, got "${input.value}"`);
  return value;
}

async function main(): Promise<void> {
  const base = new URL('./', location.href);
  const manifest = JSON.parse(await fetchText(new URL(SITE_MANIFEST_FILE, base))) as SiteManifest;
  if (manifest.format !== SITE_FORMAT) throw new Error(`${SITE_MANIFEST_FILE}: format ${JSON.stringify(manifest.format)}, this page reads ${SITE_FORMAT}; export the site again`);
  ort.env.wasm.wasmPaths = new URL(`${ORT_DIR}/`, base).href;
  // Threads need cross-origin isolation (SharedArrayBuffer); `cs336 export web --serve` sends the headers.
  const threads = crossOriginIsolated ? Math.min(4, Math.max(1, Math.floor(navigator.hardwareConcurrency / 2))) : 1;
  ort.env.wasm.numThreads = threads;
  const [tokenizerJson, model] = await Promise.all([fetchText(new URL(manifest.files.tokenizer, base)), WebModel.load(ort, manifest, base)]);
  const tokenizer = Tokenizer.fromTokenizerJsonText(tokenizerJson, manifest.files.tokenizer);
  const loadMs = performance.now();
  const { model: m, checkpoint } = manifest;
  ui.info.dataset.loadMs = loadMs.toFixed(0);
  ui.info.dataset.threads = String(threads);
  ui.info.textContent = `${(m.parameterCount / 1e6).toFixed(2)} M parameters (d ${m.dModel}, ${m.numLayers} layers, ${m.numHeads} heads, context ${m.contextLength}, vocab ${m.vocabSize}), `
    + `step ${checkpoint.step}${checkpoint.bestValidationLoss !== undefined ? `, validation loss ${checkpoint.bestValidationLoss.toFixed(3)}` : ''}; `
    + `loaded in ${(loadMs / 1000).toFixed(2)} s; onnxruntime-web ${manifest.onnxruntimeWeb}, wasm, ${threads} thread${threads > 1 ? 's' : ''}, weights as ${manifest.weights}`;

  const { defaults } = manifest;
  ui.prompt.value = defaults.prompt;
  ui.temperature.value = String(defaults.temperature);
  ui.topP.value = String(defaults.topP);
  ui.maxTokens.value = String(defaults.maxNewTokens);
  ui.seed.value = String(defaults.seed);

  let current = 0; // the generation that may run; older ones stop at their next token
  let running: Promise<void> = Promise.resolve();

  async function run(generation: number): Promise<void> {
    if (generation !== current) return;
    const prompt = ui.prompt.value;
    const options = resolveGenerateOptions({
      maxNewTokens: readNumber(ui.maxTokens, 'max new tokens'),
      temperature: readNumber(ui.temperature, 'temperature'),
      topP: readNumber(ui.topP, 'top-p'),
      seed: readNumber(ui.seed, 'seed'),
    });
    const ids = tokenizer.encode(prompt);
    if (ids.length === 0) {
      if (manifest.stopToken === undefined) throw new Error(`the prompt is empty and the tokenizer has no ${manifest.endOfText} to start from`);
      ids.push(manifest.stopToken);
    }
    const generated: number[] = [];
    const promptNode = document.createTextNode(prompt);
    const generatedNode = document.createElement('span');
    generatedNode.className = 'generated';
    ui.output.replaceChildren(promptNode, generatedNode);
    ui.output.dataset.ids = '[]';
    ui.stop.disabled = false;
    setStatus('generating', 'generating…');
    const cancellable: NextTokenModel = {
      contextLength: model.contextLength,
      vocabSize: model.vocabSize,
      nextTokenLogits: async (window) => {
        await yieldToBrowser();
        if (generation !== current) throw new Cancelled();
        return model.nextTokenLogits(window);
      },
    };
    const start = performance.now();
    let firstTokenMs = 0;
    const show = (final: boolean) => {
      const text = tokenizer.decode(generated);
      generatedNode.textContent = final ? text : text.replace(/\uFFFD+$/, ''); // hold back a partial UTF-8 character
      ui.output.dataset.ids = JSON.stringify(generated);
      const seconds = (performance.now() - start) / 1000;
      return `${generated.length} tokens in ${seconds.toFixed(2)} s: ${(generated.length / seconds).toFixed(1)} tokens/s (first token after ${firstTokenMs.toFixed(0)} ms)`;
    };
    try {
      await generate(cancellable, ids.slice(-model.contextLength), {
        ...options,
        ...(manifest.stopToken !== undefined ? { stopToken: manifest.stopToken } : {}),
        onToken: (id) => {
          if (generated.length === 0) firstTokenMs = performance.now() - start;
          generated.push(id);
          ui.status.textContent = show(false);
        },
      });
      if (generation !== current) throw new Cancelled(); // the prompt changed during the last token
      const seconds = (performance.now() - start) / 1000;
      ui.status.dataset.tokensPerSecond = (generated.length / seconds).toFixed(2);
      setStatus('done', show(true));
    } catch (error) {
      if (!(error instanceof Cancelled)) throw error;
      if (ui.status.dataset.state === 'generating') setStatus('stopped', `stopped; ${show(true)}`); // not over 'waiting'
    } finally {
      ui.stop.disabled = true;
    }
  }

  const start = () => {
    const generation = ++current;
    running = running.then(() => run(generation)).catch((error: unknown) => {
      setStatus('error', error instanceof Error ? error.message : String(error));
    });
  };
  let typing: ReturnType<typeof setTimeout> | undefined;
  ui.prompt.addEventListener('input', () => {
    clearTimeout(typing);
    current++; // stop what runs now; start once typing pauses
    setStatus('waiting', 'generation starts when you pause typing…');
    typing = setTimeout(start, 300);
  });
  ui.generate.addEventListener('click', start);
  ui.stop.addEventListener('click', () => { current++; });
  ui.prompt.disabled = false;
  ui.generate.disabled = false;
  setStatus('ready', 'Ready. Generation starts as you type (temperature 0 = greedy).');
}

main().catch((error: unknown) => {
  console.error(error);
  setStatus('error', `could not start: ${error instanceof Error ? error.message : String(error)}`);
});
