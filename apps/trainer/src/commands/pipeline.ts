/**
 * cs336 pipeline: the main job, every stage in order on one corpus —
 *   1. corpus    --data DIR (train.txt + valid.txt), a --preset's dataset (fetched into data/<preset>
 *                when absent), or the embedded default (State of the Union)
 *   2. bpe       learn a byte-level BPE vocab on train.txt
 *   3. tokenize  train.txt and valid.txt → token files
 *   4. train     the Transformer LM (small by default; the handout model with --preset)
 *   5. sample    generate text from the final checkpoint
 * Each stage is the same code as its own command (`cs336 bpe train`, `cs336 tokenize`, ...), so the
 * pipeline is only the glue: paths, settings, and deciding which stages are current.
 *
 * A stage is current exactly when the content hashes of its inputs match the stamp beside its
 * outputs (corpus text → tokenizer → token files → checkpoint); file hashes are cached by (size,
 * mtime, inode), so a rerun reads nothing it already hashed. The model is resumed only when its
 * checkpoint records the same tokenizer and token files; otherwise it is trained anew.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { resolveTrainBpeConfig } from '@cs336/bpe';
import { DATASETS, clearStageStamp, contentHash, isStageCurrent, stageStamp, writeStageStamp, type DatasetName } from '@cs336/data';
import {
  describeIdentity, identityDifferences, presetSteps, readCheckpointMetadata, savedIdentity, trainingPreset,
  type DataIdentity, type TrainConfig, type TrainingPreset,
} from '@cs336/train';
import type { Command } from '../command.js';
import { UsageError, asUsageError } from '../command.js';
import { prepareDefaultCorpus, type CorpusFiles } from '../default-corpus.js';
import { bpeTrainCommand } from './bpe-train.js';
import { defaultDataDir, fetchWithProgress } from './data-fetch.js';
import { generateCommand } from './generate.js';
import { tokenizeCommand } from './tokenize.js';
import { trainCommand } from './train.js';
import { deviceFlag, integerFlag } from '../flags.js';
import { checkOutputDirectory } from '../preflight.js';
import { createProgressBar } from '../progress.js';

const PRESETS = Object.keys(DATASETS) as DatasetName[];

const USAGE = `cs336 pipeline [--preset ${PRESETS.join('|')}] [--data DIR] [--out DIR] [--vocab-size N] [--steps N] [--device cpu|cuda] [--precision fp32|fp16] [--prompt TEXT] [--fresh] [--batch-size N] [--context-length N] [--d-model N] [--num-layers N] [--num-heads N] [--d-ff N]

  --preset NAME     the handout's run: tinystories (vocab 10k) or owt (vocab 32k), context 256, d_model 512,
                    4 layers, 16 heads, d_ff 2048, batch 128, 10,000 steps = 327,680,000 tokens, lr 2e-3 → 2e-4;
                    without --data its dataset is fetched into data/NAME (see cs336 data fetch)
  --data DIR        a folder with train.txt and valid.txt (default: the preset's data, else the embedded
                    State of the Union corpus)
  --out DIR         where everything goes (default runs/NAME with a preset, else runs/pipeline)
  --vocab-size N    BPE vocabulary size, special token included (default 4096, or the preset's)
  --steps N         optimizer steps (default 1500, about two minutes on 2 CPU cores; or the preset's budget)
  --device D        cpu (default) or cuda, for training and sampling
  --precision P     fp32 (default) or fp16 training (float16 matmuls, float32 master weights, dynamic loss
                    scaling; sampling stays float32)
  --prompt TEXT     what the sample at the end continues (default: the preset's prompt, else the opening of
                    a State of the Union address)
  --fresh           redo every stage even when its outputs are current
  --batch-size N    sequences per step (default 16, or the preset's)
  --context-length N  tokens per sequence        (these five override the model's shape,
  --d-model N       width of the residual stream  for trying a preset small first)
  --num-layers N    Transformer blocks
  --num-heads N     attention heads (must divide --d-model)
  --d-ff N          width of the feed-forward layer
  Stages whose inputs (by content hash) did not change are reused; the model is resumed only on the
  same tokenizer and token files. For full control, use \`cs336 train --config\`.`;

/** The small model the pipeline trains without a preset: the course architecture, scaled down to run in minutes on a CPU. */
const PIPELINE_MODEL = { contextLength: 128, dModel: 128, numLayers: 2, numHeads: 4, dFf: 512 } as const;

const MODEL_FLAGS = { 'context-length': 'contextLength', 'd-model': 'dModel', 'num-layers': 'numLayers', 'num-heads': 'numHeads', 'd-ff': 'dFf' } as const;

function stage(number: number, name: string, detail: string): void {
  console.error(`\n── ${number}/5 ${name}: ${detail}`);
}

async function runStage(command: Command, argv: string[]): Promise<void> {
  const code = await command.run(argv);
  if (code !== 0) throw new Error(`stage "${command.name}" failed (exit ${code}); rerun it alone with: cs336 ${command.name} ${argv.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
}

function corpusFrom(dataDir: string): CorpusFiles {
  const train = path.join(dataDir, 'train.txt');
  const valid = path.join(dataDir, 'valid.txt');
  for (const file of [train, valid]) {
    if (!fs.existsSync(file)) throw new UsageError(`--data ${dataDir}: ${path.basename(file)} is missing (the folder needs train.txt and valid.txt)`);
  }
  return { train, valid, description: `${dataDir} (train.txt ${(fs.statSync(train).size / 1e6).toFixed(1)} MB)` };
}

/** Content hash with a progress bar when the file is big and not yet in the hash cache. */
async function hashWithProgress(file: string): Promise<string> {
  const size = fs.statSync(file).size;
  const bar = size > 100e6 ? createProgressBar({ label: `hash ${path.basename(file)}`, total: size, unit: 'MB', scale: 1e6 }) : undefined;
  let hashed = false;
  const sha = await contentHash(file, { onProgress: (done) => { hashed = true; bar?.update(done); } });
  if (hashed) bar?.finish();
  return sha;
}

function writeIfChanged(file: string, text: string): void {
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) return;
  const temp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temp, text);
  fs.renameSync(temp, file);
}

export const pipelineCommand: Command = {
  name: 'pipeline',
  summary: 'the main job: corpus → BPE → tokenize → train an LM → sample text (--preset tinystories|owt for the handout runs)',
  usage: USAGE,
  flags: ['preset', 'data', 'out', 'vocab-size', 'steps', 'device', 'precision', 'prompt', 'fresh', 'batch-size', ...Object.keys(MODEL_FLAGS)],
  async run(argv) {
    let values: Record<string, string | boolean | undefined>;
    try {
      values = parseArgs({
        args: argv,
        options: {
          preset: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' }, 'vocab-size': { type: 'string' }, steps: { type: 'string' },
          device: { type: 'string' }, precision: { type: 'string' }, prompt: { type: 'string' }, fresh: { type: 'boolean' }, 'batch-size': { type: 'string' },
          ...Object.fromEntries(Object.keys(MODEL_FLAGS).map((flag) => [flag, { type: 'string' as const }])),
        },
        strict: true,
      }).values;
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    let preset: TrainingPreset | undefined;
    if (values.preset !== undefined) {
      if (!PRESETS.includes(String(values.preset) as DatasetName)) throw new UsageError(`--preset must be one of ${PRESETS.join(', ')}; got "${String(values.preset)}"`);
      preset = trainingPreset(String(values.preset));
    }
    const out = path.resolve(String(values.out ?? (preset ? path.join('runs', preset.name) : 'runs/pipeline')));
    const vocabSize = integerFlag('vocab-size', values['vocab-size'] as string | undefined, 1) ?? preset?.vocabSize ?? 4096;
    const batchSize = integerFlag('batch-size', values['batch-size'] as string | undefined, 1) ?? preset?.train.batchSize ?? 16;
    const modelShape: Record<string, number> = { ...(preset?.model ?? PIPELINE_MODEL) } as Record<string, number>;
    for (const [flag, field] of Object.entries(MODEL_FLAGS)) {
      const value = integerFlag(flag, values[flag] as string | undefined, 1);
      if (value !== undefined) modelShape[field] = value;
    }
    const model = { ...modelShape, vocabSize } as Record<'contextLength' | 'dModel' | 'numLayers' | 'numHeads' | 'dFf' | 'vocabSize', number>;
    if (model.dModel % model.numHeads !== 0) throw new UsageError(`--d-model ${model.dModel} must be divisible by --num-heads ${model.numHeads}`);
    const stepsFlag = integerFlag('steps', values.steps as string | undefined, 1);
    const steps = stepsFlag ?? (preset ? presetSteps(preset.tokenBudget, batchSize, model.contextLength) : 1500);
    const device = deviceFlag(values.device as string | undefined);
    const precision = values.precision ?? 'fp32';
    if (precision !== 'fp32' && precision !== 'fp16') throw new UsageError(`--precision must be fp32 or fp16; got "${String(precision)}"`);
    const fresh = values.fresh === true;
    const specialTokens = preset?.specialTokens ?? ['<|endoftext|>'];
    // Flags, the data folder and the output folder are checked before any stage runs.
    asUsageError(() => resolveTrainBpeConfig({ vocabSize, specialTokens }));
    const dataFiles = values.data ? corpusFrom(path.resolve(String(values.data))) : undefined;
    checkOutputDirectory('out', out);
    const started = performance.now();

    stage(1, 'corpus', values.data ? String(values.data) : preset ? `${preset.name} (fetched into ${defaultDataDir(preset.name)})` : 'embedded default');
    let corpus: CorpusFiles;
    if (dataFiles) corpus = dataFiles;
    else if (preset) {
      const fetched = await fetchWithProgress(preset.name, defaultDataDir(preset.name), undefined);
      corpus = { train: fetched.train, valid: fetched.valid, description: `${DATASETS[preset.name].title} in ${fetched.dir}${fetched.reused.length === 2 ? ' (already fetched)' : ''}` };
    } else corpus = prepareDefaultCorpus(path.join(out, 'corpus'));
    console.error(corpus.description);
    const text = { train: await hashWithProgress(corpus.train), valid: await hashWithProgress(corpus.valid) };

    const tokenizerDir = path.join(out, 'tokenizer');
    stage(2, 'bpe', `vocab ${vocabSize} on ${path.basename(corpus.train)}`);
    const bpeStamp = stageStamp('bpe', { text: text.train, vocabSize, specialTokens });
    const bpeStampFile = path.join(tokenizerDir, 'stage.json');
    const tokenizerFiles = ['vocab.json', 'merges.txt'].map((f) => path.join(tokenizerDir, f));
    if (!fresh && isStageCurrent(bpeStampFile, bpeStamp) && tokenizerFiles.every((f) => fs.existsSync(f))) {
      console.error(`reusing ${tokenizerDir} (same train.txt ${text.train.slice(0, 12)} and vocab size; --fresh to retrain)`);
    } else {
      clearStageStamp(bpeStampFile);
      await runStage(bpeTrainCommand, ['--input', corpus.train, '--vocab-size', String(vocabSize), ...specialTokens.flatMap((t) => ['--special-token', t]), '--out', tokenizerDir]);
      writeStageStamp(bpeStampFile, bpeStamp);
    }
    const [vocabHash, mergesHash] = [await contentHash(tokenizerFiles[0]!), await contentHash(tokenizerFiles[1]!)];

    stage(3, 'tokenize', 'train.txt and valid.txt → token files');
    const tokensDir = path.join(out, 'tokens');
    fs.mkdirSync(tokensDir, { recursive: true });
    const tokenFiles = { train: path.join(tokensDir, 'train.bin'), valid: path.join(tokensDir, 'valid.bin') };
    for (const split of ['train', 'valid'] as const) {
      const bin = tokenFiles[split];
      const stamp = stageStamp('tokenize', { text: text[split], vocab: vocabHash, merges: mergesHash, specialTokens });
      const stampFile = `${bin}.stage.json`;
      if (!fresh && isStageCurrent(stampFile, stamp) && fs.existsSync(bin) && fs.existsSync(`${bin}.json`)) console.error(`reusing ${bin} (same text and tokenizer)`);
      else {
        clearStageStamp(stampFile);
        await runStage(tokenizeCommand, ['--tokenizer', tokenizerDir, '--input', corpus[split], '--out', bin, ...specialTokens.flatMap((t) => ['--special-token', t])]);
        writeStageStamp(stampFile, stamp);
      }
    }

    stage(4, 'train', `d_model ${model.dModel}, ${model.numLayers} layers, ${model.numHeads} heads, context ${model.contextLength}, batch ${batchSize}, ${steps} steps on ${device}`);
    const runDir = path.join(out, 'model');
    const presetTrain: Partial<TrainConfig> = preset?.train ?? { maxLearningRate: 3e-3, minLearningRate: 3e-4, evalBatches: 8 };
    const small = preset === undefined || stepsFlag !== undefined; // cadences that fit a short run
    const config = {
      model,
      ...presetTrain,
      runDir, trainData: tokenFiles.train, validationData: tokenFiles.valid, tokenizer: tokenizerDir,
      batchSize, steps, stepsPerRun: Math.min(presetTrain.stepsPerRun ?? 10, steps),
      ...(small ? {
        warmupSteps: Math.min(presetTrain.warmupSteps ?? 50, Math.floor(steps / 10)),
        evalEvery: Math.max(10, Math.round(steps / 6 / 10) * 10),
        checkpointEvery: Math.max(10, Math.round(steps / 3 / 10) * 10),
      } : {}),
      device,
      ...(precision === 'fp16' ? { precision } : {}), // absent for fp32, so earlier runs' configs stay the same
    };
    fs.mkdirSync(runDir, { recursive: true });
    const configFile = path.join(out, 'train-config.json');
    writeIfChanged(configFile, JSON.stringify(config, null, 2) + '\n');

    // Continue the model only when it was trained on these very token files with this model shape.
    const saved = fresh ? undefined : readCheckpointMetadata(runDir);
    let trainArgs: string[] | undefined = fresh ? ['--fresh'] : [];
    if (saved) {
      const current: DataIdentity = {
        tokenizer: (JSON.parse(fs.readFileSync(`${tokenFiles.train}.json`, 'utf8')) as { tokenizerHash?: string }).tokenizerHash ?? '',
        trainData: await hashWithProgress(tokenFiles.train),
        validationData: await hashWithProgress(tokenFiles.valid),
      };
      const differ = identityDifferences(savedIdentity(saved), current);
      if (differ.length > 0 || !saved.data) {
        console.error(`the model in ${runDir} was trained on other data (${describeIdentity(savedIdentity(saved)) || 'unrecorded'}; now ${describeIdentity(current)}): training a new one`);
        trainArgs = ['--fresh'];
      } else if (Object.entries(model).some(([key, value]) => saved.modelConfig[key] !== value)) {
        console.error(`the model in ${runDir} has another shape: training a new one`);
        trainArgs = ['--fresh'];
      } else if (saved.step >= steps) {
        console.error(`reusing ${runDir} (step ${saved.step}, trained on ${describeIdentity(current)}; --fresh to retrain)`);
        trainArgs = undefined;
      } else {
        console.error(`resuming ${runDir} from step ${saved.step} (same data: ${describeIdentity(current)})`);
        trainArgs = ['--resume'];
      }
    }
    if (trainArgs) await runStage(trainCommand, ['--config', configFile, ...trainArgs]);

    stage(5, 'sample', 'from the final checkpoint');
    const prompt = String(values.prompt ?? preset?.samplePrompt ?? 'Fellow-Citizens of the Senate and House of Representatives:');
    await runStage(generateCommand, ['--checkpoint', runDir, '--tokenizer', tokenizerDir, '--prompt', prompt, '--max-new-tokens', '80', '--temperature', '0.8', '--top-p', '0.95', '--device', device]);

    console.error(`\npipeline done in ${((performance.now() - started) / 1000).toFixed(0)} s; outputs in ${out}`);
    console.error(`  tokenizer ${tokenizerDir}\n  tokens    ${tokensDir}\n  model     ${runDir} (metrics.jsonl, loss-curve.svg/.png, checkpoint.safetensors)`);
    return 0;
  },
};
