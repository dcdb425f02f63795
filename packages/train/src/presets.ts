/**
 * The handout's two training runs as presets: TinyStories (vocab 10k) and the OpenWebText sample
 * (vocab 32k), both the same model (context 256, d_model 512, 4 layers, 16 heads, d_ff 2048)
 * trained on 327,680,000 tokens.
 *
 * Batch size 128 makes that 10,000 steps of 128 · 256 tokens. The learning rate (2e-3 peak,
 * cosine to 2e-4 after 400 warmup steps, AdamW β = (0.9, 0.95), weight decay 0.1, clip 1.0) is
 * a common starting point for a model this size, not a value tuned here: the handout asks you to
 * sweep it.
 */
import type { DatasetName } from '@cs336/data';
import type { TransformerConfig } from '@cs336/nn';
import type { TrainConfig } from './train-config.js';

export const HANDOUT_TOKEN_BUDGET = 327_680_000;

export interface TrainingPreset {
  name: DatasetName;
  description: string;
  /** BPE vocabulary size, the special token included. */
  vocabSize: number;
  specialTokens: readonly string[];
  model: Readonly<Partial<TransformerConfig>>;
  /** Train fields besides the paths; steps = tokenBudget / (batchSize · contextLength). */
  train: Readonly<Partial<TrainConfig>>;
  tokenBudget: number;
  samplePrompt: string;
}

const MODEL = { contextLength: 256, dModel: 512, numLayers: 4, numHeads: 16, dFf: 2048 } as const;
const BATCH_SIZE = 128;

const TRAIN: Partial<TrainConfig> = {
  batchSize: BATCH_SIZE,
  steps: presetSteps(HANDOUT_TOKEN_BUDGET, BATCH_SIZE, MODEL.contextLength),
  stepsPerRun: 8,
  maxLearningRate: 2e-3,
  minLearningRate: 2e-4,
  warmupSteps: 400,
  evalEvery: 500,
  evalBatches: 16,
  checkpointEvery: 500,
};

export const TRAINING_PRESETS: Readonly<Record<DatasetName, TrainingPreset>> = Object.freeze({
  tinystories: {
    name: 'tinystories',
    description: 'TinyStoriesV2-GPT4, BPE 10k, the handout model on 327.68 M tokens',
    vocabSize: 10_000,
    specialTokens: ['<|endoftext|>'],
    model: { vocabSize: 10_000, ...MODEL },
    train: TRAIN,
    tokenBudget: HANDOUT_TOKEN_BUDGET,
    samplePrompt: 'Once upon a time',
  },
  owt: {
    name: 'owt',
    description: 'OpenWebText sample, BPE 32k, the handout model on 327.68 M tokens',
    vocabSize: 32_000,
    specialTokens: ['<|endoftext|>'],
    model: { vocabSize: 32_000, ...MODEL },
    train: TRAIN,
    tokenBudget: HANDOUT_TOKEN_BUDGET,
    samplePrompt: 'The',
  },
});

/** Steps that process `tokenBudget` tokens at `batchSize` sequences of `contextLength` (rounded up). */
export function presetSteps(tokenBudget: number, batchSize: number, contextLength: number): number {
  return Math.ceil(tokenBudget / (batchSize * contextLength));
}

export function trainingPreset(name: string): TrainingPreset {
  if (!Object.hasOwn(TRAINING_PRESETS, name)) throw new Error(`unknown preset "${name}"; known: ${Object.keys(TRAINING_PRESETS).join(', ')}`);
  return TRAINING_PRESETS[name as DatasetName];
}
