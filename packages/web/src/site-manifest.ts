/**
 * site.json: what the page needs to know about the exported model, written by exportWebSite and read
 * by the page. Plain data, so the page (browser code) imports only this file's types.
 */

export const SITE_FORMAT = 'cs336-web/1';
export const SITE_MANIFEST_FILE = 'site.json';
/** The folder of the site that holds onnxruntime-web's JavaScript and WebAssembly. */
export const ORT_DIR = 'ort';

/**
 * How the page gets the parameters:
 *   external      (default) initializers of both graphs whose bytes are one weights.bin (ONNX external data), fetched once
 *   initializers  baked into each graph (each .onnx file is self-contained; the weights are in both)
 *   inputs        one weights.bin fetched once, fed to every run as graph inputs (as InferenceModel does)
 */
export type WeightsMode = 'initializers' | 'external' | 'inputs';
export const WEIGHTS_MODES: readonly WeightsMode[] = ['external', 'initializers', 'inputs'];
/** The name external-data initializers give their file (the page hands the runtime weights.bin under it). */
export const EXTERNAL_WEIGHTS_LOCATION = 'weights.bin';

export interface SiteParameter {
  name: string;
  shape: number[];
  /** Float32 offset of the tensor in weights.bin. */
  offset: number;
}

export interface SiteManifest {
  format: string;
  model: { vocabSize: number; contextLength: number; dModel: number; numLayers: number; numHeads: number; dFf: number; parameterCount: number };
  checkpoint: { step: number; tokensSeen: number; bestValidationLoss?: number };
  weights: WeightsMode;
  files: { prefill: string; decodeStep: string; tokenizer: string; weights?: string };
  /** Present in `inputs` and `external` modes: the tensors of weights.bin, in order. */
  parameters?: SiteParameter[];
  /** Graph input and output names (see @cs336/train's buildPrefillGraph and buildDecodeStepGraph). */
  names: {
    ids: string;
    lastPosition: string;
    position: string;
    logits: string;
    /** Per layer, the cached keys and values going into a decode step ([k, v]). */
    past: Array<[string, string]>;
    /** Per layer, the keys and values coming out of either graph ([k, v]). */
    present: Array<[string, string]>;
  };
  /** Generation stops after this id (the tokenizer's end-of-text), as in `cs336 generate`. */
  stopToken?: number;
  endOfText: string;
  defaults: { prompt: string; temperature: number; topP: number; maxNewTokens: number; seed: number };
  onnxruntimeWeb: string;
}
