/**
 * Starting weights from a file (TrainConfig.initFrom): another run's checkpoint.safetensors or a
 * PyTorch state dict saved with safetensors (`save_file(model.state_dict(), path)`) under the course's
 * parameter names (token_embeddings.weight, layers.0.attn.q_proj.weight, ...). Only the parameters
 * are taken: the optimizer starts fresh (zero moments, step 0), as when fine-tuning.
 *
 * Every parameter of the model must be present with its exact shape, and nothing else may be there
 * (a stray tensor means the file is for another model), so a mismatch fails before training starts.
 */
import fs from 'node:fs';
import type { ParameterSpec } from '@cs336/nn';
import { readSafetensors } from './safetensors.js';

/** What torch.compile puts in front of every state-dict key. */
const COMPILED_PREFIX = '_orig_mod.';

export interface InitialParameters {
  parameters: Record<string, Float32Array>;
  /** The source's model config when the file is a cs336 checkpoint. */
  sourceModelConfig?: Record<string, unknown>;
  /** 'checkpoint' (a cs336 run; its optimizer moments are dropped) or 'state dict'. */
  kind: 'checkpoint' | 'state dict';
}

export function loadInitialParameters(file: string, specs: readonly ParameterSpec[]): InitialParameters {
  if (!fs.existsSync(file)) throw new Error(`initFrom: ${file} does not exist; give a checkpoint.safetensors or a state dict saved with safetensors`);
  const { tensors, metadata } = readSafetensors(file);
  const isCheckpoint = metadata.cs336 !== undefined;
  const expected = new Map(specs.map((s) => [s.name, s.shape]));
  const parameters: Record<string, Float32Array> = {};
  const unexpected: string[] = [];
  for (const [rawName, tensor] of tensors) {
    if (isCheckpoint && rawName.startsWith('optimizer.')) continue; // AdamW moments: the new run starts its own
    const name = rawName.startsWith(COMPILED_PREFIX) ? rawName.slice(COMPILED_PREFIX.length) : rawName;
    const shape = expected.get(name);
    if (!shape) {
      unexpected.push(rawName);
      continue;
    }
    if (tensor.dims.join(',') !== shape.join(',')) {
      throw new Error(`initFrom ${file}: "${rawName}" has shape [${tensor.dims.join(', ')}] but the model needs [${shape.join(', ')}]; the file is for another model shape (check dModel, dFf, vocabSize, contextLength)`);
    }
    if (tensor.dtype === 'float32') parameters[name] = tensor.data as Float32Array;
    else if (tensor.dtype === 'float64') parameters[name] = Float32Array.from(tensor.data as Float64Array);
    else throw new Error(`initFrom ${file}: "${rawName}" is ${tensor.dtype}; save float32 weights (in PyTorch: {k: v.float() for k, v in state_dict.items()})`);
  }
  if (unexpected.length > 0) {
    const shown = unexpected.slice(0, 5).map((n) => `"${n}"`).join(', ');
    throw new Error(`initFrom ${file}: ${unexpected.length} tensor${unexpected.length > 1 ? 's are' : ' is'} not parameters of this model (${shown}${unexpected.length > 5 ? ', ...' : ''}); ` +
      `expected the course's names, e.g. ${specs.slice(0, 3).map((s) => `"${s.name}"`).join(', ')}`);
  }
  const missing = specs.filter((s) => parameters[s.name] === undefined).map((s) => s.name);
  if (missing.length > 0) {
    throw new Error(`initFrom ${file}: missing ${missing.length} parameter${missing.length > 1 ? 's' : ''} of this model (${missing.slice(0, 5).map((n) => `"${n}"`).join(', ')}${missing.length > 5 ? ', ...' : ''})`);
  }
  const result: InitialParameters = { parameters, kind: isCheckpoint ? 'checkpoint' : 'state dict' };
  if (isCheckpoint) {
    try {
      result.sourceModelConfig = (JSON.parse(metadata.cs336!) as { modelConfig?: Record<string, unknown> }).modelConfig;
    } catch {
      // Weights are what matter; an unreadable metadata blob only loses the config comparison.
    }
  }
  return result;
}
