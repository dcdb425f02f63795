/**
 * The exported model in onnxruntime-web as a NextTokenModel for @cs336/train's generate(), with the
 * same KV-cache rule as @cs336/train's InferenceModel: a call whose ids extend the previous call's by
 * one token runs the decode step on that token alone; any other call (a new prompt, or a window that
 * slid past the context length) runs the prefill graph on all of its ids. Same graphs, same choices,
 * so the same logits up to the runtimes' float rounding.
 */
import type * as Ort from 'onnxruntime-web/wasm';
import type { NextTokenModel } from '@cs336/train/generate';
import { EXTERNAL_WEIGHTS_LOCATION, type SiteManifest } from '../src/site-manifest.js';

type Feeds = Record<string, Ort.Tensor>;

export class WebModel implements NextTokenModel {
  readonly contextLength: number;
  readonly vocabSize: number;
  private cached: { ids: number[]; past: Feeds } | undefined;
  readonly runs = { prefill: 0, step: 0 };

  private constructor(
    private readonly ort: typeof Ort,
    private readonly manifest: SiteManifest,
    private readonly prefill: Ort.InferenceSession,
    private readonly step: Ort.InferenceSession,
    /** In `inputs` mode, every parameter as a feed (views into weights.bin); empty when baked in. */
    private readonly parameterFeeds: Feeds,
  ) {
    this.contextLength = manifest.model.contextLength;
    this.vocabSize = manifest.model.vocabSize;
  }

  /** Fetches the graphs (and weights.bin in `inputs` mode) relative to `base` and opens both sessions. */
  static async load(ort: typeof Ort, manifest: SiteManifest, base: URL): Promise<WebModel> {
    const fetchBytes = async (file: string) => {
      const response = await fetch(new URL(file, base));
      if (!response.ok) throw new Error(`fetching ${file}: HTTP ${response.status}`);
      return new Uint8Array(await response.arrayBuffer());
    };
    const options: Ort.InferenceSession.SessionOptions = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
    const [prefillBytes, stepBytes, weightBytes] = await Promise.all([
      fetchBytes(manifest.files.prefill),
      fetchBytes(manifest.files.decodeStep),
      manifest.files.weights ? fetchBytes(manifest.files.weights) : undefined,
    ]);
    const parameterFeeds: Feeds = {};
    if (manifest.weights === 'inputs') {
      if (!weightBytes || !manifest.parameters) throw new Error('site.json: weights mode "inputs" needs files.weights and parameters');
      const all = new Float32Array(weightBytes.buffer, weightBytes.byteOffset, weightBytes.byteLength / 4);
      for (const { name, shape, offset } of manifest.parameters) {
        const count = shape.reduce((a, b) => a * b, 1);
        parameterFeeds[name] = new ort.Tensor('float32', all.subarray(offset, offset + count), shape);
      }
    }
    if (manifest.weights === 'external') {
      if (!weightBytes) throw new Error('site.json: weights mode "external" needs files.weights');
      options.externalData = [{ path: EXTERNAL_WEIGHTS_LOCATION, data: weightBytes }]; // both graphs read the one download
    }
    // One after the other: the wasm backend initializes once, on the first session.
    const prefill = await ort.InferenceSession.create(prefillBytes, options);
    const step = await ort.InferenceSession.create(stepBytes, options);
    return new WebModel(ort, manifest, prefill, step, parameterFeeds);
  }

  /** Forgets the cached keys and values (the next call is a prefill). */
  reset(): void {
    this.cached = undefined;
  }

  async nextTokenLogits(ids: readonly number[]): Promise<Float32Array> {
    if (ids.length === 0 || ids.length > this.contextLength) throw new Error(`nextTokenLogits: need 1..${this.contextLength} ids, got ${ids.length}`);
    const { names } = this.manifest;
    const int64 = (values: number[], dims: number[]) => new this.ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
    const feeds: Feeds = { ...this.parameterFeeds };
    const previous = this.cached;
    this.cached = undefined; // until this call succeeds
    let out: Ort.InferenceSession.OnnxValueMapType;
    if (previous && ids.length === previous.ids.length + 1 && previous.ids.every((id, i) => id === ids[i])) {
      const position = previous.ids.length;
      feeds[names.ids] = int64([ids[position]!], [1, 1]);
      feeds[names.position] = int64([position], [1]);
      Object.assign(feeds, previous.past);
      out = await this.step.run(feeds);
      this.runs.step++;
    } else {
      feeds[names.ids] = int64([...ids], [1, ids.length]);
      feeds[names.lastPosition] = int64([ids.length - 1], []);
      out = await this.prefill.run(feeds);
      this.runs.prefill++;
    }
    const past: Feeds = {};
    names.present.forEach(([k, v], layer) => {
      const [pastK, pastV] = names.past[layer]!;
      past[pastK] = out[k] as Ort.Tensor;
      past[pastV] = out[v] as Ort.Tensor;
    });
    this.cached = { ids: [...ids], past };
    return (out[names.logits] as Ort.Tensor).data as Float32Array;
  }
}
