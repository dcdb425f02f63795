/**
 * Training artifacts, one call → a folder (like ORT's generate_artifacts):
 *   train_step.onnx  K fused optimizer steps (see train-step.ts)
 *   eval.onnx        mean loss of a batch, no gradients
 *   infer.onnx       next-token logits at one position
 *   manifest.json    configs, tensor names/shapes/dtypes, opset, onnxruntime-node version, config hash
 * The folder is reused when the manifest's hash matches the requested configs (and the versions of the
 * packages that build the graphs) and every file is present, and rebuilt otherwise. Bump
 * ARTIFACTS_FORMAT when the graphs change without a version bump.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { transformerParameters, type TransformerConfig } from '@cs336/nn';
import { writeFileAtomic } from './atomic-write.js';
import { configHash } from './config-hash.js';
import {
  CLEAN_STEPS_INPUT, GRAD_NORMS_OUTPUT, IDS_INPUT, LAST_POSITION_INPUT, LEARNING_RATES_INPUT, LOGITS_OUTPUT, LOSSES_OUTPUT, LOSS_OUTPUT,
  LOSS_SCALES_OUTPUT, LOSS_SCALE_INPUT, SKIPPED_OUTPUT, STEP_INPUT, TOKENS_INPUT, buildEvalGraph, buildInferGraph, buildTrainStepGraph,
  momentName, updatedName, type OptimizerSettings, type Precision, type TrainStepShape,
} from './train-step.js';

/** Bumped when the graphs change shape or meaning, so old artifact folders are rebuilt. */
export const ARTIFACTS_FORMAT = 'cs336-artifacts/1';
export const OPSET = 18;

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: Array<number | string>;
}

export interface ArtifactManifest {
  format: string;
  configHash: string;
  opset: number;
  onnxruntimeNode: string;
  /** Versions of @cs336/train, graph, nn and optim that built the graphs. */
  builders: Record<string, string>;
  model: TransformerConfig;
  batchSize: number;
  contextLength: number;
  /** train_step's precision; absent (older folders and fp32) = 'fp32'. eval and infer are always float32. */
  precision?: Precision;
  optimizer: OptimizerSettings;
  files: { trainStep: string; eval: string; infer: string };
  parameters: TensorInfo[];
  trainStep: { inputs: TensorInfo[]; outputs: TensorInfo[] };
  eval: { inputs: TensorInfo[]; outputs: TensorInfo[] };
  infer: { inputs: TensorInfo[]; outputs: TensorInfo[] };
}

const FILES = { trainStep: 'train_step.onnx', eval: 'eval.onnx', infer: 'infer.onnx' } as const;
export const MANIFEST_FILE = 'manifest.json';

const localRequire = createRequire(import.meta.url);

function versionOf(packageJson: string, from = localRequire): string {
  try {
    return (from(packageJson) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The installed onnxruntime-node version (read through @cs336/graph, which depends on it). */
export function onnxruntimeVersion(): string {
  try {
    return versionOf('onnxruntime-node/package.json', createRequire(localRequire.resolve('@cs336/graph/package.json')));
  } catch {
    return 'unknown';
  }
}

/** Versions of the packages that build the graphs: a new release rebuilds old artifact folders. */
function builderVersions(): Record<string, string> {
  return {
    '@cs336/train': versionOf('../package.json'),
    ...Object.fromEntries(['graph', 'nn', 'optim'].map((name) => [`@cs336/${name}`, versionOf(`@cs336/${name}/package.json`)])),
  };
}

function describeTensors(shape: TrainStepShape): Omit<ArtifactManifest, 'format' | 'configHash' | 'opset' | 'onnxruntimeNode' | 'builders' | 'model' | 'batchSize' | 'contextLength' | 'precision' | 'optimizer' | 'files'> {
  const { batchSize: B, contextLength: T, model } = shape;
  const parameters = transformerParameters(model).map((spec) => ({ name: spec.name, dtype: 'float32', shape: [...spec.shape] }));
  const moments = (which: 'm' | 'v') => parameters.map((p) => ({ ...p, name: momentName(which, p.name) }));
  const state = [...parameters, ...moments('m'), ...moments('v')];
  const scaling: TensorInfo[] = shape.precision === 'fp16' ? [{ name: LOSS_SCALE_INPUT, dtype: 'float32', shape: [] }, { name: CLEAN_STEPS_INPUT, dtype: 'int64', shape: [] }] : [];
  const scalingOutputs: TensorInfo[] = shape.precision === 'fp16'
    ? [...scaling, { name: STEP_INPUT, dtype: 'int64', shape: [] }].map((t) => ({ ...t, name: updatedName(t.name) }))
      .concat([{ name: LOSS_SCALES_OUTPUT, dtype: 'float32', shape: ['K'] }, { name: SKIPPED_OUTPUT, dtype: 'bool', shape: ['K'] }])
    : [];
  return {
    parameters,
    trainStep: {
      inputs: [...state, { name: STEP_INPUT, dtype: 'int64', shape: [] }, ...scaling, { name: TOKENS_INPUT, dtype: 'int64', shape: ['K', B, T + 1] }, { name: LEARNING_RATES_INPUT, dtype: 'float32', shape: ['K'] }],
      outputs: [...state.map((t) => ({ ...t, name: updatedName(t.name) })), { name: LOSSES_OUTPUT, dtype: 'float32', shape: ['K'] }, { name: GRAD_NORMS_OUTPUT, dtype: 'float32', shape: ['K'] }, ...scalingOutputs],
    },
    eval: { inputs: [...parameters, { name: TOKENS_INPUT, dtype: 'int64', shape: [B, T + 1] }], outputs: [{ name: LOSS_OUTPUT, dtype: 'float32', shape: [] }] },
    infer: {
      inputs: [...parameters, { name: IDS_INPUT, dtype: 'int64', shape: [1, model.contextLength] }, { name: LAST_POSITION_INPUT, dtype: 'int64', shape: [] }],
      outputs: [{ name: LOGITS_OUTPUT, dtype: 'float32', shape: [1, model.vocabSize] }],
    },
  };
}

export function readManifest(dir: string): ArtifactManifest | undefined {
  const file = path.join(dir, MANIFEST_FILE);
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ArtifactManifest;
  } catch {
    return undefined; // unreadable → rebuild
  }
}

export interface BuildArtifactsResult {
  dir: string;
  manifest: ArtifactManifest;
  /** False when an up-to-date folder was reused. */
  built: boolean;
}

/** Writes (or reuses) the artifacts for this model, batch shape and optimizer into `dir`. */
export function buildArtifacts(dir: string, shape: TrainStepShape, optimizer: OptimizerSettings): BuildArtifactsResult {
  if (shape.contextLength > shape.model.contextLength) {
    throw new Error(`context length ${shape.contextLength} is longer than the model's ${shape.model.contextLength} (position embeddings stop there); lower contextLength or raise model.contextLength`);
  }
  const onnxruntimeNode = onnxruntimeVersion();
  // precision enters the identity only when fp16, so fp32 folders built before it existed are reused.
  const identity = {
    format: ARTIFACTS_FORMAT, opset: OPSET, onnxruntimeNode, builders: builderVersions(), model: shape.model, batchSize: shape.batchSize, contextLength: shape.contextLength,
    ...(shape.precision === 'fp16' ? { precision: shape.precision } : {}), optimizer,
  };
  const hash = configHash(identity);
  const existing = readManifest(dir);
  if (existing?.configHash === hash && Object.values(FILES).every((file) => fs.existsSync(path.join(dir, file)))) {
    return { dir, manifest: existing, built: false };
  }
  fs.mkdirSync(dir, { recursive: true });
  // The manifest goes last: its presence with a matching hash is what marks the folder complete.
  fs.rmSync(path.join(dir, MANIFEST_FILE), { force: true });
  writeFileAtomic(path.join(dir, FILES.trainStep), buildTrainStepGraph(shape, optimizer).toModel({ producer: '@cs336/train' }));
  writeFileAtomic(path.join(dir, FILES.eval), buildEvalGraph(shape).toModel({ producer: '@cs336/train' }));
  writeFileAtomic(path.join(dir, FILES.infer), buildInferGraph(shape.model).toModel({ producer: '@cs336/train' }));
  const manifest: ArtifactManifest = { ...identity, configHash: hash, files: { ...FILES }, ...describeTensors(shape) };
  writeFileAtomic(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  return { dir, manifest, built: true };
}
