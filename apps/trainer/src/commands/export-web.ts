/** cs336 export web: a checkpoint → a static site that generates text in the browser (@cs336/web). */
import { parseArgs } from 'node:util';
import { WEIGHTS_MODES, exportWebSite, serveSite, type WeightsMode } from '@cs336/web';
import { loadCheckpoint } from '@cs336/train';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { integerFlag } from '../flags.js';
import { TOKENIZER_OPTIONS, TOKENIZER_USAGE, loadTokenizer, type FlagValues } from './tokenize.js';

const USAGE = `cs336 export web --checkpoint DIR --out SITE [${TOKENIZER_USAGE}] [--weights external|initializers|inputs] [--serve [--port N]]

  --checkpoint DIR   a run directory (or its checkpoint.safetensors)
  --out SITE         the site folder (HTML, JS, the model's graphs, onnxruntime-web's wasm: works offline)
  --tokenizer DIR    defaults to the "tokenizer" recorded in the checkpoint's train config
  --weights MODE     external (default): both graphs' initializers read one weights.bin (ONNX external data);
                     initializers: the weights inside each graph; inputs: one weights.bin fed to every run
  --serve            then serve SITE on http://127.0.0.1:PORT/ until Ctrl-C (--port, default 8336; 0 = any free port)`;

function parse(argv: string[]): FlagValues & { serve?: boolean } {
  try {
    return parseArgs({
      args: argv,
      options: { ...TOKENIZER_OPTIONS, checkpoint: { type: 'string' }, out: { type: 'string' }, weights: { type: 'string' }, serve: { type: 'boolean' }, port: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }).values as FlagValues & { serve?: boolean };
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nusage: ${USAGE}`);
  }
}

export const exportWebCommand: Command = {
  name: 'export web',
  summary: 'export a checkpoint as a static page that generates in the browser',
  usage: USAGE,
  async run(argv) {
    const values = parse(argv);
    const { checkpoint, out } = values;
    if (!checkpoint || !out) throw new UsageError(`--checkpoint and --out are required\nusage: ${USAGE}`);
    const weights = (values.weights ?? 'external') as WeightsMode;
    if (!WEIGHTS_MODES.includes(weights)) throw new UsageError(`--weights must be one of ${WEIGHTS_MODES.join(', ')}; got "${values.weights}"`);
    if (values.port !== undefined && !values.serve) throw new UsageError('--port is only for --serve');
    const port = integerFlag('port', values.port, 0) ?? 8336;
    if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);

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
    if (!values.serve) return 0;

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
