/**
 * Runs the artifacts. The host keeps the parameters and moments between runs: through the Node
 * binding every output comes back to JavaScript after each `run`, which is why train_step fuses K
 * optimizer steps into one call.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Session, type HostTensor, type SessionOptions } from '@cs336/graph';
import { resolveTransformerConfig, transformerParameters, type TransformerConfig } from '@cs336/nn';
import type { ArtifactManifest } from './artifacts.js';
import { loadCheckpoint, type CheckpointMetadata } from './checkpoint.js';
import type { NextTokenModel } from './generate.js';
import {
  GRAD_NORMS_OUTPUT, IDS_INPUT, LAST_POSITION_INPUT, LEARNING_RATES_INPUT, LOGITS_OUTPUT, LOSSES_OUTPUT, LOSS_OUTPUT, STEP_INPUT,
  TOKENS_INPUT, buildInferGraph, momentName, updatedName,
} from './train-step.js';

/** Parameters and AdamW moments keyed by parameter name, plus the number of optimizer steps taken. */
export interface TrainingState {
  parameters: Map<string, Float32Array>;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
  step: number;
}

export interface StepsResult {
  /** Loss of each step, before its update. */
  losses: Float32Array;
  /** Global gradient norm of each step, before clipping. */
  gradNorms: Float32Array;
  /** Seconds inside Session.run. */
  runSeconds: number;
}

function tensor(dims: readonly number[], data: Float32Array): HostTensor {
  return { dtype: 'float32', dims, data };
}

export class TrainingSession {
  private evalSession: Session | undefined;
  /** Seconds spent inside Session.run since creation (train and eval), for the bench. */
  runSeconds = 0;

  private constructor(
    readonly manifest: ArtifactManifest,
    private readonly dir: string,
    private readonly trainSession: Session,
    private readonly options: SessionOptions,
    public state: TrainingState,
  ) {}

  /** Opens train_step.onnx from an artifacts folder with the given starting state. */
  static async create(dir: string, manifest: ArtifactManifest, state: TrainingState, options: SessionOptions = {}): Promise<TrainingSession> {
    checkState(manifest, state);
    const session = await Session.create(fs.readFileSync(path.join(dir, manifest.files.trainStep)), options);
    return new TrainingSession(manifest, dir, session, options, state);
  }

  /** A fresh state: the given parameters and zero moments at step 0. */
  static freshState(parameters: Record<string, Float32Array | Float64Array>, manifest: ArtifactManifest): TrainingState {
    const state: TrainingState = { parameters: new Map(), m: new Map(), v: new Map(), step: 0 };
    for (const info of manifest.parameters) {
      const data = parameters[info.name];
      if (!data) throw new Error(`initial parameters lack "${info.name}"`);
      state.parameters.set(info.name, data instanceof Float32Array ? data : Float32Array.from(data));
      state.m.set(info.name, new Float32Array(data.length));
      state.v.set(info.name, new Float32Array(data.length));
    }
    return state;
  }

  /**
   * Runs K = learningRates.length optimizer steps on `tokens` (flat [K, B, T+1]) and keeps the
   * updated state. Step k uses learningRates[k] and AdamW's t = state.step + k + 1.
   */
  async runSteps(tokens: BigInt64Array, learningRates: Float32Array): Promise<StepsResult> {
    const { batchSize: B, contextLength: T } = this.manifest;
    const K = learningRates.length;
    if (K === 0) throw new Error('runSteps: give at least one learning rate (one per step)');
    if (tokens.length !== K * B * (T + 1)) {
      throw new Error(`runSteps: tokens hold ${tokens.length} ids, expected K·B·(T+1) = ${K}·${B}·${T + 1} = ${K * B * (T + 1)}`);
    }
    const feeds: Record<string, HostTensor> = {
      [STEP_INPUT]: { dtype: 'int64', dims: [], data: new BigInt64Array([BigInt(this.state.step)]) },
      [TOKENS_INPUT]: { dtype: 'int64', dims: [K, B, T + 1], data: tokens },
      [LEARNING_RATES_INPUT]: tensor([K], learningRates),
    };
    for (const info of this.manifest.parameters) {
      const dims = info.shape as number[];
      feeds[info.name] = tensor(dims, this.state.parameters.get(info.name)!);
      feeds[momentName('m', info.name)] = tensor(dims, this.state.m.get(info.name)!);
      feeds[momentName('v', info.name)] = tensor(dims, this.state.v.get(info.name)!);
    }
    const start = performance.now();
    const out = await this.trainSession.run(feeds);
    const runSeconds = (performance.now() - start) / 1000;
    this.runSeconds += runSeconds;
    const next: TrainingState = { parameters: new Map(), m: new Map(), v: new Map(), step: this.state.step + K };
    for (const info of this.manifest.parameters) {
      next.parameters.set(info.name, out[updatedName(info.name)]!.data as Float32Array);
      next.m.set(info.name, out[updatedName(momentName('m', info.name))]!.data as Float32Array);
      next.v.set(info.name, out[updatedName(momentName('v', info.name))]!.data as Float32Array);
    }
    this.state = next;
    return { losses: out[LOSSES_OUTPUT]!.data as Float32Array, gradNorms: out[GRAD_NORMS_OUTPUT]!.data as Float32Array, runSeconds };
  }

  /** Mean loss of one batch of windows (flat [B, T+1]) under the current parameters. */
  async evaluate(windows: BigInt64Array): Promise<number> {
    const { batchSize: B, contextLength: T } = this.manifest;
    if (windows.length !== B * (T + 1)) throw new Error(`evaluate: got ${windows.length} ids, expected B·(T+1) = ${B * (T + 1)}`);
    this.evalSession ??= await Session.create(fs.readFileSync(path.join(this.dir, this.manifest.files.eval)), this.options);
    const feeds: Record<string, HostTensor> = { [TOKENS_INPUT]: { dtype: 'int64', dims: [B, T + 1], data: windows } };
    for (const info of this.manifest.parameters) feeds[info.name] = tensor(info.shape as number[], this.state.parameters.get(info.name)!);
    const start = performance.now();
    const out = await this.evalSession.run(feeds);
    this.runSeconds += (performance.now() - start) / 1000;
    return (out[LOSS_OUTPUT]!.data as Float32Array)[0]!;
  }

  async release(): Promise<void> {
    await this.trainSession.release();
    await this.evalSession?.release();
  }
}

function checkState(manifest: ArtifactManifest, state: TrainingState): void {
  for (const info of manifest.parameters) {
    const count = (info.shape as number[]).reduce((a, b) => a * b, 1);
    for (const [what, map] of [['parameter', state.parameters], ['moment m of', state.m], ['moment v of', state.v]] as const) {
      const data = map.get(info.name);
      if (!data) throw new Error(`training state lacks ${what} "${info.name}"`);
      if (data.length !== count) throw new Error(`training state: ${what} "${info.name}" has ${data.length} values, the model needs [${info.shape.join(', ')}] = ${count}`);
    }
  }
}

/** infer.onnx (or the same graph built in memory) as a NextTokenModel for generate(). */
export class InferenceModel implements NextTokenModel {
  readonly contextLength: number;
  readonly vocabSize: number;
  private readonly specs: ReadonlyArray<{ name: string; shape: readonly number[] }>;

  private constructor(
    private readonly session: Session,
    readonly model: TransformerConfig,
    private readonly parameters: Map<string, Float32Array>,
    /** The checkpoint's metadata when built from one (its trainConfig names the tokenizer). */
    readonly metadata?: CheckpointMetadata,
  ) {
    this.contextLength = model.contextLength;
    this.vocabSize = model.vocabSize;
    this.specs = transformerParameters(model);
    for (const spec of this.specs) {
      if (!parameters.has(spec.name)) throw new Error(`InferenceModel: missing parameter "${spec.name}"`);
    }
  }

  /** From an artifacts folder's infer.onnx. */
  static async create(dir: string, manifest: ArtifactManifest, parameters: Map<string, Float32Array>, options: SessionOptions = {}): Promise<InferenceModel> {
    const session = await Session.create(fs.readFileSync(path.join(dir, manifest.files.infer)), options);
    return new InferenceModel(session, manifest.model, parameters);
  }

  /** From a checkpoint (run directory or .safetensors file): its model config and parameters. */
  static async fromCheckpoint(target: string, options: SessionOptions = {}): Promise<InferenceModel> {
    const checkpoint = loadCheckpoint(target);
    const model = resolveTransformerConfig(checkpoint.metadata.modelConfig as Partial<TransformerConfig>);
    const parameters = new Map<string, Float32Array>();
    for (const [name, t] of checkpoint.parameters) {
      parameters.set(name, t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as Float64Array));
    }
    const session = await Session.create(buildInferGraph(model).toModel({ producer: '@cs336/train' }), options);
    return new InferenceModel(session, model, parameters, checkpoint.metadata);
  }

  async nextTokenLogits(ids: readonly number[]): Promise<Float32Array> {
    if (ids.length === 0 || ids.length > this.contextLength) throw new Error(`nextTokenLogits: need 1..${this.contextLength} ids, got ${ids.length}`);
    const padded = new BigInt64Array(this.contextLength); // zeros after the prompt; causal attention ignores them
    ids.forEach((id, i) => { padded[i] = BigInt(id); });
    const feeds: Record<string, HostTensor> = {
      [IDS_INPUT]: { dtype: 'int64', dims: [1, this.contextLength], data: padded },
      [LAST_POSITION_INPUT]: { dtype: 'int64', dims: [], data: new BigInt64Array([BigInt(ids.length - 1)]) },
    };
    for (const spec of this.specs) feeds[spec.name] = tensor(spec.shape, this.parameters.get(spec.name)!);
    const out = await this.session.run(feeds);
    return out[LOGITS_OUTPUT]!.data as Float32Array;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
