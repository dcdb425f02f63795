/**
 * cs336 pipeline: the main job, every stage in order on one corpus —
 *   1. corpus    the embedded default (State of the Union) or --data DIR with train.txt + valid.txt
 *   2. bpe       learn a byte-level BPE vocab on train.txt
 *   3. tokenize  train.txt and valid.txt → uint16 token files
 *   4. train     a small Transformer LM on the CPU (a few minutes by default)
 *   5. sample    generate text from the final checkpoint
 * Each stage is the same code as its own command (`cs336 bpe train`, `cs336 tokenize`, ...), so the
 * pipeline is only the glue: paths, sensible small defaults, and skipping stages whose outputs exist.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { resolveTrainBpeConfig } from '@cs336/bpe';
import type { Command } from '../command.js';
import { UsageError, asUsageError } from '../command.js';
import { prepareDefaultCorpus, type CorpusFiles } from '../default-corpus.js';
import { bpeTrainCommand } from './bpe-train.js';
import { generateCommand } from './generate.js';
import { tokenizeCommand } from './tokenize.js';
import { trainCommand } from './train.js';
import { deviceFlag, integerFlag } from '../flags.js';
import { checkOutputDirectory } from '../preflight.js';

const USAGE = `cs336 pipeline [--data DIR] [--out DIR] [--vocab-size N] [--steps N] [--device cpu|cuda] [--prompt TEXT] [--fresh]

  --data DIR        a folder with train.txt and valid.txt (default: the embedded State of the Union corpus)
  --out DIR         where everything goes (default runs/pipeline)
  --vocab-size N    BPE vocabulary size, special token included (default 4096)
  --steps N         optimizer steps of the small LM (default 1500: about two minutes on 2 CPU cores)
  --device D        cpu (default) or cuda, for training and sampling
  --prompt TEXT     what the sample at the end continues (default: the opening of a State of the Union address)
  --fresh           redo every stage even when its outputs exist
  Model and training defaults are small on purpose; for real runs use \`cs336 train --config\`.`;

/** The small model the pipeline trains: the course architecture, scaled down to run in minutes on a CPU. */
const PIPELINE_MODEL = { contextLength: 128, dModel: 128, numLayers: 2, numHeads: 4, dFf: 512 } as const;

function stage(number: number, name: string, detail: string): void {
  console.error(`\n── ${number}/5 ${name}: ${detail}`);
}

async function runStage(command: Command, argv: string[]): Promise<void> {
  const code = await command.run(argv);
  if (code !== 0) throw new Error(`stage "${command.name}" failed (exit ${code}); rerun it alone with: cs336 ${command.name} ${argv.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
}

/** Temp file + rename, so a crash never leaves a half-written stamp or config behind. */
function writeFileAtomic(file: string, text: string): void {
  const temporary = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temporary, text);
  fs.renameSync(temporary, file);
}

function corpusFrom(dataDir: string): CorpusFiles {
  const train = path.join(dataDir, 'train.txt');
  const valid = path.join(dataDir, 'valid.txt');
  for (const file of [train, valid]) {
    if (!fs.existsSync(file)) throw new UsageError(`--data ${dataDir}: ${path.basename(file)} is missing (the folder needs train.txt and valid.txt)`);
  }
  return { train, valid, description: `${dataDir} (train.txt ${(fs.statSync(train).size / 1e6).toFixed(1)} MB)` };
}

export const pipelineCommand: Command = {
  name: 'pipeline',
  summary: 'the main job: corpus → BPE → tokenize → train a small LM → sample text',
  usage: USAGE,
  flags: ['data', 'out', 'vocab-size', 'steps', 'device', 'prompt', 'fresh'],
  async run(argv) {
    let values: Record<string, string | boolean | undefined>;
    try {
      values = parseArgs({
        args: argv,
        options: {
          data: { type: 'string' }, out: { type: 'string' }, 'vocab-size': { type: 'string' }, steps: { type: 'string' },
          device: { type: 'string' }, prompt: { type: 'string' }, fresh: { type: 'boolean' },
        },
        strict: true,
      }).values;
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const out = path.resolve(String(values.out ?? 'runs/pipeline'));
    const vocabSize = integerFlag('vocab-size', values['vocab-size'] as string | undefined, 1) ?? 4096;
    const steps = integerFlag('steps', values.steps as string | undefined, 1) ?? 1500;
    const device = deviceFlag(values.device as string | undefined);
    const fresh = values.fresh === true;
    // Flags, the data folder and the output folder are checked before any stage runs.
    asUsageError(() => resolveTrainBpeConfig({ vocabSize, specialTokens: ['<|endoftext|>'] }));
    const dataFiles = values.data ? corpusFrom(path.resolve(String(values.data))) : undefined;
    checkOutputDirectory('out', out);
    const started = performance.now();

    stage(1, 'corpus', values.data ? String(values.data) : 'embedded default');
    const corpus = dataFiles ?? prepareDefaultCorpus(path.join(out, 'corpus'));
    console.error(corpus.description);

    const tokenizerDir = path.join(out, 'tokenizer');
    stage(2, 'bpe', `vocab ${vocabSize} on ${path.basename(corpus.train)}`);
    const stamp = path.join(tokenizerDir, 'pipeline-stamp.json');
    const wanted = JSON.stringify({ input: corpus.train, size: fs.statSync(corpus.train).size, vocabSize });
    if (!fresh && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === wanted) {
      console.error(`reusing ${tokenizerDir} (same corpus and vocab size; --fresh to retrain)`);
    } else {
      await runStage(bpeTrainCommand, ['--input', corpus.train, '--vocab-size', String(vocabSize), '--special-token', '<|endoftext|>', '--out', tokenizerDir]);
      writeFileAtomic(stamp, wanted);
    }

    stage(3, 'tokenize', 'train.txt and valid.txt → uint16 token files');
    const tokensDir = path.join(out, 'tokens');
    fs.mkdirSync(tokensDir, { recursive: true });
    const tokenFiles = { train: path.join(tokensDir, 'train.bin'), valid: path.join(tokensDir, 'valid.bin') };
    for (const split of ['train', 'valid'] as const) {
      const bin = tokenFiles[split];
      const upToDate = fs.existsSync(bin) && fs.existsSync(`${bin}.json`) && fs.statSync(bin).mtimeMs >= fs.statSync(stamp).mtimeMs;
      if (!fresh && upToDate) console.error(`reusing ${bin}`);
      else await runStage(tokenizeCommand, ['--tokenizer', tokenizerDir, '--input', corpus[split], '--out', bin]);
    }

    stage(4, 'train', `d_model ${PIPELINE_MODEL.dModel}, ${PIPELINE_MODEL.numLayers} layers, context ${PIPELINE_MODEL.contextLength}, ${steps} steps on ${device}`);
    const runDir = path.join(out, 'model');
    const config = {
      model: { vocabSize, ...PIPELINE_MODEL },
      ...{
        runDir, trainData: tokenFiles.train, validationData: tokenFiles.valid, tokenizer: tokenizerDir,
        batchSize: 16, steps, stepsPerRun: 10, maxLearningRate: 3e-3, minLearningRate: 3e-4,
        warmupSteps: Math.min(50, Math.floor(steps / 10)), evalEvery: Math.max(10, Math.round(steps / 6 / 10) * 10), evalBatches: 8,
        checkpointEvery: Math.max(10, Math.round(steps / 3 / 10) * 10), device,
      },
    };
    fs.mkdirSync(runDir, { recursive: true });
    const configFile = path.join(out, 'train-config.json');
    writeFileAtomic(configFile, JSON.stringify(config, null, 2) + '\n');
    if (fresh) fs.rmSync(path.join(runDir, 'checkpoint.safetensors'), { force: true });
    await runStage(trainCommand, ['--config', configFile, ...(fresh ? [] : ['--resume'])]);

    stage(5, 'sample', 'from the final checkpoint');
    const prompt = String(values.prompt ?? 'Fellow-Citizens of the Senate and House of Representatives:');
    await runStage(generateCommand, ['--checkpoint', runDir, '--tokenizer', tokenizerDir, '--prompt', prompt, '--max-new-tokens', '80', '--temperature', '0.8', '--top-p', '0.95', '--device', device]);

    console.error(`\npipeline done in ${((performance.now() - started) / 1000).toFixed(0)} s; outputs in ${out}`);
    console.error(`  tokenizer ${tokenizerDir}\n  tokens    ${tokensDir}\n  model     ${runDir} (metrics.jsonl, loss-curve.svg/.png, checkpoint.safetensors)`);
    return 0;
  },
};
