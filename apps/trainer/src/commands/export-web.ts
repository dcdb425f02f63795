/** cs336 export web: a checkpoint → a static site that generates text in the browser (@cs336/web). */
import { WEIGHTS_MODES, exportWebSite, serveSite, type WeightsMode } from '@cs336/web';
import { loadCheckpoint } from '@cs336/train';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { integerFlag } from '../flags.js';
import { checkOutputDirectory } from '../preflight.js';
import { TOKENIZER_FLAGS, TOKENIZER_HELP, loadTokenizer, parseFlags } from './tokenize.js';

const DEFAULT_PORT = 8336;
const USAGE = `cs336 export web --checkpoint DIR --out SITE [--tokenizer DIR | --vocab F --merges F] [--special-token T ...] [--weights external|initializers|inputs] [--serve [--port N]]

  --checkpoint DIR    a run directory (or its checkpoint.safetensors)
  --out SITE          the site folder: HTML, JS, the model's graphs and weights, onnxruntime-web's wasm (works
                      offline); an earlier export there is replaced, any other non-empty folder refused
${TOKENIZER_HELP}
                      (default tokenizer: the "tokenizer" recorded in the checkpoint's train config)
  --weights MODE      external (default): both graphs' initializers read one weights.bin (ONNX external data);
                      initializers: the weights inside each graph; inputs: one weights.bin fed to every run
  --serve             then serve SITE on http://127.0.0.1:PORT/ until Ctrl-C
  --port N            the port for --serve (default ${DEFAULT_PORT}; 0 = any free port)`;

export const exportWebCommand: Command = {
  name: 'export web',
  summary: 'export a checkpoint as a static page that generates in the browser',
  usage: USAGE,
  flags: ['checkpoint', 'out', ...TOKENIZER_FLAGS, 'weights', 'serve', 'port'],
  async run(argv) {
    const values = parseFlags(argv, ['checkpoint', 'out', 'weights', 'port'], USAGE, ['serve']);
    const { checkpoint, out } = values;
    if (!checkpoint || !out) throw new UsageError('--checkpoint and --out are required');
    const weights = (values.weights ?? 'external') as WeightsMode;
    if (!WEIGHTS_MODES.includes(weights)) throw new UsageError(`--weights must be one of ${WEIGHTS_MODES.join(', ')}; got "${values.weights}"`);
    const serve = values.serve !== undefined;
    if (values.port !== undefined && !serve) throw new UsageError('--port is only for --serve');
    const port = integerFlag('port', values.port, 0) ?? DEFAULT_PORT;
    if (port > 65535) throw new UsageError(`--port must be at most 65535; got ${port}`);
    checkOutputDirectory('out', out);

    const noTokenizerFlag = values.tokenizer === undefined && values.vocab === undefined && values.merges === undefined;
    if (noTokenizerFlag) {
      const recorded = loadCheckpoint(checkpoint).metadata.trainConfig.tokenizer;
      if (typeof recorded === 'string' && recorded !== '') values.tokenizer = recorded;
    }
    const tokenizer = await loadTokenizer(values, USAGE);
    const started = performance.now();
    const result = exportWebSite({ checkpoint, tokenizer, out, weights });
    const megabytes = result.files.reduce((sum, f) => sum + f.bytes, 0) / 1e6;
    console.error(`exported ${result.files.length} files (${megabytes.toFixed(1)} MB, weights as ${weights}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    console.log(result.out);
    if (!serve) return 0;

    const server = await serveSite(result.out, { port });
    console.error(`serving ${result.out} at ${server.url} (Ctrl-C to stop)`);
    await new Promise<void>((resolve) => {
      const stop = () => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await server.close();
    return 0;
  },
};
