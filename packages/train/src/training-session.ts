/**
 * Runs the artifacts. The host keeps the parameters and moments between runs: through the Node
 * binding every output comes back to JavaScript after each `run`, which is why train_step fuses K
 * optimizer steps into one call.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Session, bakeParameters, type HostTensor, type SessionOptions } from '@cs336/graph';
import { resolveTransformerConfig, transformerParameters, type TransformerConfig } from '@cs336/nn';
import type { ArtifactManifest } from './artifacts.js';
import { loadCheckpoint, type CheckpointMetadata } from './checkpoint.js';
import { FINITE_OUTPUT, GENERATED_OUTPUT, STOP_TOKEN_INPUT, UNIFORMS_INPUT, buildDecodeLoopGraph } from './decode-loop.js';
import type { NextTokenModel, RuntimeSampling } from './generate.js';
import { DEFAULT_LOSS_SCALE, type LossScaleState } from './loss-scale.js';
import { UNIFORM_SCALE, type SamplingSettings } from './sampling-graph.js';
import {
  CLEAN_STEPS_INPUT, GRAD_NORMS_OUTPUT, IDS_INPUT, LAST_POSITION_INPUT, LEARNING_RATES_INPUT, LOGITS_OUTPUT, LOSSES_OUTPUT, LOSS_OUTPUT,
  LOSS_SCALES_OUTPUT, LOSS_SCALE_INPUT, SKIPPED_OUTPUT, STEP_INPUT, POSITION_INPUT, TOKENS_INPUT, buildDecodeStepGraph, buildPrefillGraph,
  kvName, momentName, updatedName,
} from './train-step.js';

/**
 * Parameters and AdamW moments keyed by parameter name, plus the number of optimizer steps taken
 * (skipped ones included: batches and learning rates follow it), and with fp16 the loss-scaling state.
 */
export interface TrainingState {
  parameters: Map<string, Float32Array>;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
  step: number;
  /** fp16 artifacts only. */
  lossScale?: LossScaleState;
}

export interface StepsResult {
  /** Loss of each step, before its update. */
  losses: Float32Array;
  /** Global gradient norm of each step, before clipping (not finite on a skipped fp16 step). */
  gradNorms: Float32Array;
  /** fp16: the loss scale each step used, and whether it was skipped (its gradients overflowed). */
  lossScales?: Float32Array;
  skipped?: boolean[];
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

  /** A fresh state: the given parameters and zero moments at step 0 (with fp16, loss scale `lossScale`). */
  static freshState(parameters: Record<string, Float32Array | Float64Array>, manifest: ArtifactManifest, lossScale = DEFAULT_LOSS_SCALE): TrainingState {
    const state: TrainingState = { parameters: new Map(), m: new Map(), v: new Map(), step: 0 };
    if (manifest.precision === 'fp16') state.lossScale = { scale: lossScale, cleanSteps: 0, appliedSteps: 0 };
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
   * updated state. Step k uses learningRates[k] and AdamW's t = state.step + k + 1 (with fp16, the
   * applied updates before it + 1: skipped steps do not count).
   */
  async runSteps(tokens: BigInt64Array, learningRates: Float32Array): Promise<StepsResult> {
    const { batchSize: B, contextLength: T } = this.manifest;
    const K = learningRates.length;
    if (K === 0) throw new Error('runSteps: give at least one learning rate (one per step)');
    if (tokens.length !== K * B * (T + 1)) {
      throw new Error(`runSteps: tokens hold ${tokens.length} ids, expected K·B·(T+1) = ${K}·${B}·${T + 1} = ${K * B * (T + 1)}`);
    }
    const scaling = this.state.lossScale;
    const int64 = (value: number): HostTensor => ({ dtype: 'int64', dims: [], data: new BigInt64Array([BigInt(value)]) });
    const feeds: Record<string, HostTensor> = {
      [STEP_INPUT]: int64(scaling ? scaling.appliedSteps : this.state.step),
      [TOKENS_INPUT]: { dtype: 'int64', dims: [K, B, T + 1], data: tokens },
      [LEARNING_RATES_INPUT]: tensor([K], learningRates),
    };
    if (scaling) {
      feeds[LOSS_SCALE_INPUT] = tensor([], new Float32Array([scaling.scale]));
      feeds[CLEAN_STEPS_INPUT] = int64(scaling.cleanSteps);
    }
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
    const result: StepsResult = { losses: out[LOSSES_OUTPUT]!.data as Float32Array, gradNorms: out[GRAD_NORMS_OUTPUT]!.data as Float32Array, runSeconds };
    if (scaling) {
      const scalar = (name: string) => Number(out[updatedName(name)]!.data[0]);
      next.lossScale = { scale: scalar(LOSS_SCALE_INPUT), cleanSteps: scalar(CLEAN_STEPS_INPUT), appliedSteps: scalar(STEP_INPUT) };
      result.lossScales = out[LOSS_SCALES_OUTPUT]!.data as Float32Array;
      result.skipped = Array.from(out[SKIPPED_OUTPUT]!.data as Uint8Array, (flag) => flag !== 0);
    }
    this.state = next;
    return result;
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
  const fp16 = manifest.precision === 'fp16';
  if (fp16 !== (state.lossScale !== undefined)) {
    throw new Error(fp16 ? 'training state: fp16 artifacts need a loss-scale state (TrainingSession.freshState makes one)' : 'training state: a loss-scale state was given but the artifacts are fp32');
  }
  if (state.lossScale && !(state.lossScale.scale > 0 && Number.isFinite(state.lossScale.scale))) throw new Error(`training state: loss scale must be a positive finite number, got ${state.lossScale.scale}`);
  for (const info of manifest.parameters) {
    const count = (info.shape as number[]).reduce((a, b) => a * b, 1);
    for (const [what, map] of [['parameter', state.parameters], ['moment m of', state.m], ['moment v of', state.v]] as const) {
      const data = map.get(info.name);
      if (!data) throw new Error(`training state lacks ${what} "${info.name}"`);
      if (data.length !== count) throw new Error(`training state: ${what} "${info.name}" has ${data.length} values, the model needs [${info.shape.join(', ')}] = ${count}`);
    }
  }
}

/**
 * A trained model as a NextTokenModel for generate(), with a KV cache: the first call (or any call
 * whose ids do not extend the previous call's by one token) runs the prefill graph on the ids, and
 * each call that adds one token runs a decode step on that token alone, reusing every layer's keys
 * and values. Past the context length generate() slides its window, which moves every position, so
 * each call is then a prefill of the whole window, as without a cache.
 */
/**
 * How InferenceModel's graphs get the parameters: 'baked' (default) builds both graphs with every parameter
 * as an initializer, so ORT places (and on the CPU pre-packs) them once and a run sends only ids and the KV
 * cache; 'fed' sends every parameter as an input on every run (one graph set serves training and inference).
 */
export type InferenceWeights = 'baked' | 'fed';

export interface InferenceOptions extends SessionOptions {
  weights?: InferenceWeights;
  /** The decode loop's cache layout (DecodeLoopOptions.cache); 'grow' (default) measured faster. */
  decodeCache?: 'grow' | 'fixed';
}

export class InferenceModel implements NextTokenModel {
  readonly contextLength: number;
  readonly vocabSize: number;
  /** With weights 'fed', every parameter as a feed, built once: both graphs take them all on every call. */
  private readonly parameterFeeds: Record<string, HostTensor>;
  /** The ids of the last call and the keys/values the model computed for them, as the next step's `past` feeds. */
  private cached: { ids: number[]; past: Record<string, HostTensor> } | undefined;
  /** How many times each graph ran: a prefill per new prompt or slid window, a step per cached token, a loop per chunk. */
  readonly runs = { prefill: 0, step: 0, loop: 0 };
  /** The decode_loop session of the last sampling settings (its constants), built on first use. */
  private loopSession: { key: string; session: Promise<Session> } | undefined;

  private constructor(
    private readonly prefill: Session,
    private readonly step: Session,
    readonly model: TransformerConfig,
    /** Fed on every run; empty when the graphs carry the parameters. */
    parameterFeeds: Record<string, HostTensor>,
    readonly weights: InferenceWeights,
    readonly decodeCache: 'grow' | 'fixed',
    /** For building decode_loop graphs on demand. */
    private readonly parameters: ReadonlyMap<string, Float32Array>,
    private readonly sessionOptions: SessionOptions,
    /** The checkpoint's metadata when built from one (its trainConfig names the tokenizer). */
    readonly metadata?: CheckpointMetadata,
  ) {
    this.contextLength = model.contextLength;
    this.vocabSize = model.vocabSize;
    this.parameterFeeds = parameterFeeds;
  }

  private static async build(model: TransformerConfig, parameters: Map<string, Float32Array>, options: InferenceOptions, metadata?: CheckpointMetadata): Promise<InferenceModel> {
    const { weights = 'baked', decodeCache = 'grow', ...sessionOptions } = options;
    if (decodeCache !== 'grow' && decodeCache !== 'fixed') throw new Error(`InferenceModel: decodeCache must be 'grow' or 'fixed', got ${JSON.stringify(decodeCache)}`);
    if (weights !== 'baked' && weights !== 'fed') throw new Error(`InferenceModel: weights must be 'baked' or 'fed', got ${JSON.stringify(weights)}`);
    const byName = new Map<string, Float32Array>();
    for (const spec of transformerParameters(model)) {
      const data = parameters.get(spec.name);
      if (!data) throw new Error(`InferenceModel: missing parameter "${spec.name}"`);
      byName.set(spec.name, data);
    }
    const graphs = [buildPrefillGraph(model), buildDecodeStepGraph(model)].map((g) => g.toModel({ producer: '@cs336/train' }));
    const [prefillModel, stepModel] = weights === 'baked' ? graphs.map((g) => bakeParameters(g, byName)) : graphs;
    const prefill = await Session.create(prefillModel!, sessionOptions);
    const step = await Session.create(stepModel!, sessionOptions);
    const feeds: Record<string, HostTensor> = {};
    if (weights === 'fed') for (const spec of transformerParameters(model)) feeds[spec.name] = tensor(spec.shape, byName.get(spec.name)!);
    return new InferenceModel(prefill, step, model, feeds, weights, decodeCache, byName, sessionOptions, metadata);
  }

  /** For the model of an artifacts folder (its manifest's config; the graphs are built in memory). */
  static async create(_dir: string, manifest: ArtifactManifest, parameters: Map<string, Float32Array>, options: InferenceOptions = {}): Promise<InferenceModel> {
    return InferenceModel.build(manifest.model, parameters, options);
  }

  /** For a model config and its parameters by state-dict name (e.g. from initParameters or elsewhere). */
  static async fromParameters(model: Partial<TransformerConfig>, parameters: Map<string, Float32Array>, options: InferenceOptions = {}): Promise<InferenceModel> {
    return InferenceModel.build(resolveTransformerConfig(model), parameters, options);
  }

  /** From a checkpoint (run directory or .safetensors file): its model config and parameters. */
  static async fromCheckpoint(target: string, options: InferenceOptions = {}): Promise<InferenceModel> {
    const checkpoint = loadCheckpoint(target);
    const model = resolveTransformerConfig(checkpoint.metadata.modelConfig as Partial<TransformerConfig>);
    const parameters = new Map<string, Float32Array>();
    for (const [name, t] of checkpoint.parameters) {
      parameters.set(name, t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as Float64Array));
    }
    return InferenceModel.build(model, parameters, options, checkpoint.metadata);
  }

  async nextTokenLogits(ids: readonly number[]): Promise<Float32Array> {
    if (ids.length === 0 || ids.length > this.contextLength) throw new Error(`nextTokenLogits: need 1..${this.contextLength} ids, got ${ids.length}`);
    const feeds: Record<string, HostTensor> = { ...this.parameterFeeds };
    const previous = this.cached;
    this.cached = undefined; // until this call succeeds
    let out: Record<string, HostTensor>;
    if (previous && ids.length === previous.ids.length + 1 && previous.ids.every((id, i) => id === ids[i])) {
      const position = previous.ids.length;
      feeds[IDS_INPUT] = { dtype: 'int64', dims: [1, 1], data: new BigInt64Array([BigInt(ids[position]!)]) };
      feeds[POSITION_INPUT] = { dtype: 'int64', dims: [1], data: new BigInt64Array([BigInt(position)]) };
      Object.assign(feeds, previous.past);
      out = await this.step.run(feeds);
      this.runs.step++;
    } else {
      feeds[IDS_INPUT] = { dtype: 'int64', dims: [1, ids.length], data: BigInt64Array.from(ids, (id) => BigInt(id)) };
      feeds[LAST_POSITION_INPUT] = { dtype: 'int64', dims: [], data: new BigInt64Array([BigInt(ids.length - 1)]) };
      out = await this.prefill.run(feeds);
      this.runs.prefill++;
    }
    const past: Record<string, HostTensor> = {};
    for (let i = 0; i < this.model.numLayers; i++) {
      for (const part of ['k', 'v'] as const) past[kvName('past', i, part)] = out[kvName('present', i, part)]!;
    }
    this.cached = { ids: [...ids], past };
    return out[LOGITS_OUTPUT]!.data as Float32Array;
  }

  /**
   * generate()'s 'loop' decode (see NextTokenModel.continueInRuntime): when the cache holds every id
   * but the last, runs the decode_loop graph for uniforms.length tokens in one session.run, so the cache
   * crosses the host link once per chunk instead of twice per token. Undefined when nothing is cached
   * for these ids (generate() then steps, which prefills). The graph bakes temperature and top-p in as
   * constants, so a new setting builds (and keeps) a new session.
   */
  async continueInRuntime(ids: readonly number[], uniforms: Float64Array, sampling: RuntimeSampling): Promise<number[] | undefined> {
    const previous = this.cached;
    if (!previous || ids.length !== previous.ids.length + 1 || !previous.ids.every((id, i) => id === ids[i])) return undefined;
    const position = previous.ids.length;
    if (position + uniforms.length > this.contextLength) {
      throw new Error(`continueInRuntime: ${uniforms.length} tokens from position ${position} run past the context length ${this.contextLength}`);
    }
    if (uniforms.length === 0) return [];
    const session = await this.decodeLoopSession({ temperature: sampling.temperature, topP: sampling.topP });
    const feeds: Record<string, HostTensor> = { ...this.parameterFeeds, ...previous.past };
    feeds[IDS_INPUT] = { dtype: 'int64', dims: [1, 1], data: new BigInt64Array([BigInt(ids[position]!)]) };
    feeds[POSITION_INPUT] = { dtype: 'int64', dims: [1], data: new BigInt64Array([BigInt(position)]) };
    feeds[UNIFORMS_INPUT] = {
      dtype: 'int64',
      dims: [uniforms.length],
      data: BigInt64Array.from(uniforms, (u) => {
        if (!(u >= 0 && u < 1) || !Number.isInteger(u * UNIFORM_SCALE)) throw new Error(`continueInRuntime: uniform ${u} is not a 53-bit float in [0, 1) like Random.nextFloat's`);
        return BigInt(u * UNIFORM_SCALE);
      }),
    };
    feeds[STOP_TOKEN_INPUT] = { dtype: 'int64', dims: [], data: new BigInt64Array([BigInt(sampling.stopToken ?? -1)]) };
    this.cached = undefined; // until this call succeeds
    const out = await session.run(feeds);
    this.runs.loop++;
    const finite = out[FINITE_OUTPUT]?.data as Uint8Array | undefined;
    if (finite?.includes(0)) throw new Error('the model produced non-finite logits; the checkpoint may be diverged');
    const generated = Array.from(out[GENERATED_OUTPUT]!.data as BigInt64Array, Number);
    const past: Record<string, HostTensor> = {};
    for (let i = 0; i < this.model.numLayers; i++) {
      for (const part of ['k', 'v'] as const) past[kvName('past', i, part)] = out[kvName('present', i, part)]!;
    }
    this.cached = { ids: [...ids, ...generated.slice(0, -1)], past };
    return generated;
  }

  private async decodeLoopSession(sampling: SamplingSettings): Promise<Session> {
    // Greedy ignores top-p; the key keeps one session per distinct graph.
    const key = sampling.temperature === 0 ? 'greedy' : `${sampling.temperature}/${sampling.topP}`;
    if (this.loopSession?.key !== key) {
      const old = this.loopSession?.session;
      const graph = buildDecodeLoopGraph(this.model, sampling, { cache: this.decodeCache }).toModel({ producer: '@cs336/train' });
      const session = Session.create(this.weights === 'baked' ? bakeParameters(graph, this.parameters) : graph, this.sessionOptions);
      this.loopSession = { key, session };
      await releaseSession(old);
    }
    return this.loopSession.session;
  }

  async release(): Promise<void> {
    this.cached = undefined;
    await this.prefill.release();
    await this.step.release();
    const loopSession = this.loopSession?.session;
    this.loopSession = undefined;
    await releaseSession(loopSession);
  }
}

/** Releases a session that may still be starting; one that failed to start has nothing to release. */
async function releaseSession(session: Promise<Session> | undefined): Promise<void> {
  await session?.then((s) => s.release(), () => undefined);
}
