/**
 * Validation loss of a model on a token file: the mean over batches of the mean next-token
 * cross-entropy (nats), the same windows and averaging as the training loop's evaluation
 * (sequentialWindows: non-overlapping windows of T+1 tokens from the start, B at a time, the last
 * partial batch dropped), so evaluating a checkpoint on its validation file with the training batch
 * size and evalBatches gives the loss the run logged. Perplexity = exp(loss).
 */
import { Session, type HostTensor, type SessionOptions } from '@cs336/graph';
import { resolveTransformerConfig, transformerParameters, type TransformerConfig } from '@cs336/nn';
import { loadCheckpoint, type CheckpointMetadata } from './checkpoint.js';
import { TokenFile, sequentialWindows } from './token-file.js';
import { LOSS_OUTPUT, TOKENS_INPUT, buildEvalGraph } from './train-step.js';

export interface EvaluateOptions extends SessionOptions {
  /** B, sequences per batch. */
  batchSize: number;
  /** T, tokens per sequence (≤ the model's contextLength); default the model's contextLength. */
  contextLength?: number;
  /** How many batches from the start of the file; 'all' (default) = every full batch. */
  batches?: number | 'all';
  /** Id width of a token file without a sidecar (one from cs336 tokenize has it in its sidecar). */
  dtype?: 'uint16' | 'uint32';
  /** After each batch (for progress bars). */
  onBatch?: (done: number, total: number) => void;
}

export interface EvaluationResult {
  /** Mean cross-entropy, nats per token. */
  loss: number;
  perplexity: number;
  batches: number;
  batchSize: number;
  contextLength: number;
  /** Predicted tokens: batches · B · T. */
  tokens: number;
}

/** Batches sequentialWindows will yield for these settings (throws its error when not even one fits). */
function batchCount(tokens: TokenFile, B: number, T: number, batches: number | 'all'): number {
  const full = Math.floor(Math.floor((tokens.length - 1) / T) / B);
  return batches === 'all' ? full : Math.min(batches, full);
}

/** Loss of `parameters` (state-dict names) under `model` on the token file at `data`. */
export async function evaluateLoss(modelInput: Partial<TransformerConfig>, parameters: ReadonlyMap<string, Float32Array>, data: string | TokenFile, options: EvaluateOptions): Promise<EvaluationResult> {
  const model = resolveTransformerConfig(modelInput);
  const B = options.batchSize;
  const T = options.contextLength ?? model.contextLength;
  const batches = options.batches ?? 'all';
  if (!Number.isInteger(B) || B < 1) throw new Error(`evaluate: batchSize must be a positive integer, got ${B}`);
  if (!Number.isInteger(T) || T < 1 || T > model.contextLength) throw new Error(`evaluate: contextLength must be an integer in [1, ${model.contextLength}] (the model's context), got ${T}`);
  if (batches !== 'all' && !(Number.isInteger(batches) && batches >= 1)) throw new Error(`evaluate: batches must be a positive integer or 'all', got ${String(batches)}`);
  const feeds: Record<string, HostTensor> = {};
  for (const spec of transformerParameters(model)) {
    const values = parameters.get(spec.name);
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (!values) throw new Error(`evaluate: missing parameter "${spec.name}"`);
    if (values.length !== size) throw new Error(`evaluate: parameter "${spec.name}" has ${values.length} values, the model needs [${spec.shape.join(', ')}] = ${size}`);
    feeds[spec.name] = { dtype: 'float32', dims: spec.shape, data: values };
  }
  const tokens = typeof data === 'string' ? TokenFile.open(data, { vocabSize: model.vocabSize, ...(options.dtype ? { dtype: options.dtype } : {}) }) : data;
  let session: Session | undefined;
  try {
    const total = batchCount(tokens, B, T, batches);
    session = await Session.create(buildEvalGraph({ model, batchSize: B, contextLength: T }), {
      ...(options.device !== undefined ? { device: options.device } : {}),
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
    });
    let sum = 0;
    let done = 0;
    for (const windows of sequentialWindows(tokens, B, T, batches === 'all' ? Infinity : batches)) {
      const out = await session.run({ ...feeds, [TOKENS_INPUT]: { dtype: 'int64', dims: [B, T + 1], data: windows } });
      sum += (out[LOSS_OUTPUT]!.data as Float32Array)[0]!;
      done++;
      options.onBatch?.(done, total);
    }
    const loss = sum / done;
    return { loss, perplexity: Math.exp(loss), batches: done, batchSize: B, contextLength: T, tokens: done * B * T };
  } finally {
    await session?.release();
    if (typeof data === 'string') tokens.close();
  }
}

/**
 * A checkpoint's loss on a token file. Batch size, context and (for a file without a sidecar) the id
 * width default to the run's; a token file whose sidecar names another tokenizer than the run's
 * training data is refused.
 */
export async function evaluateCheckpoint(checkpoint: string, data: string, options: Partial<EvaluateOptions> = {}): Promise<EvaluationResult & { step: number; metadata: CheckpointMetadata }> {
  const state = loadCheckpoint(checkpoint);
  const { metadata } = state;
  const model = resolveTransformerConfig(metadata.modelConfig as Partial<TransformerConfig>);
  const parameters = new Map<string, Float32Array>();
  for (const [name, t] of state.parameters) parameters.set(name, t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>));
  const dtype = options.dtype ?? (metadata.trainConfig.dataDtype as EvaluateOptions['dtype'] | '' | undefined);
  const tokens = TokenFile.open(data, { vocabSize: model.vocabSize, ...(dtype ? { dtype } : {}) });
  try {
    const fileHash = tokens.sidecar?.tokenizerHash;
    if (fileHash && metadata.tokenizerHash && fileHash !== metadata.tokenizerHash) {
      throw new Error(`${data} was tokenized with another tokenizer (hash ${fileHash.slice(0, 12)}) than the model's training data (${metadata.tokenizerHash.slice(0, 12)}); tokenize it with the run's tokenizer`);
    }
    const trainedB = Number(metadata.trainConfig.batchSize);
    const trainedT = Number(metadata.trainConfig.contextLength) || model.contextLength;
    const result = await evaluateLoss(model, parameters, tokens, {
      ...options,
      batchSize: options.batchSize ?? (trainedB > 0 ? trainedB : 1),
      contextLength: options.contextLength ?? trainedT,
    });
    return { ...result, step: metadata.step, metadata };
  } finally {
    tokens.close();
  }
}
