import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeModel } from '@cs336/graph';
import { Tokenizer } from '@cs336/tokenizer';
import { ORT_FILES, exportWebSite, siteTokenizer } from './export-web.js';
import { SITE_FORMAT, type SiteManifest } from './site-manifest.js';
import { TINY_MODEL, byteTokenizer, saveTinyCheckpoint } from '../test/tiny-checkpoint.js';

let dir: string;
let runDir: string;
let parameters: Map<string, Float32Array>;
const tokenizer = byteTokenizer();

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'export-web-'));
  runDir = path.join(dir, 'run');
  parameters = saveTinyCheckpoint(runDir, tokenizer);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const readManifest = (site: string) => JSON.parse(fs.readFileSync(path.join(site, 'site.json'), 'utf8')) as SiteManifest;

describe('exportWebSite', () => {
  it('in initializers mode writes the page, onnxruntime-web, both graphs with the weights inside, the tokenizer and site.json', () => {
    const out = path.join(dir, 'site');
    const result = exportWebSite({ checkpoint: runDir, tokenizer, out, weights: 'initializers' });
    const expected = ['index.html', 'app.js', 'site.json', 'model/prefill.onnx', 'model/decode_step.onnx', 'model/tokenizer.json', ...ORT_FILES.map((f) => `ort/${f}`)];
    expect(result.files.map((f) => f.path).sort()).toEqual(expected.sort());
    for (const file of result.files) expect(fs.statSync(path.join(out, file.path)).size).toBe(file.bytes);
    const manifest = readManifest(out);
    expect(manifest).toMatchObject({ format: SITE_FORMAT, weights: 'initializers', stopToken: 256, checkpoint: { step: 3, tokensSeen: 96 }, onnxruntimeWeb: '1.29.0' });
    expect(manifest.model).toMatchObject({ vocabSize: 257, contextLength: 16, numLayers: 2 });
    expect(manifest.names.past).toEqual([['past.0.k', 'past.0.v'], ['past.1.k', 'past.1.v']]);
    for (const graph of ['model/prefill.onnx', 'model/decode_step.onnx']) {
      const proto = decodeModel(fs.readFileSync(path.join(out, graph))).graph;
      expect(proto.input.some((i) => parameters.has(i.name))).toBe(false);
      expect(proto.initializer.filter((t) => parameters.has(t.name))).toHaveLength(parameters.size);
    }
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('in inputs mode writes weights.bin holding every parameter at its listed offset', () => {
    const out = path.join(dir, 'site-inputs');
    exportWebSite({ checkpoint: runDir, tokenizer, out, weights: 'inputs' });
    const manifest = readManifest(out);
    const bytes = fs.readFileSync(path.join(out, manifest.files.weights!));
    const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    expect(manifest.parameters!.map((p) => p.name).sort()).toEqual([...parameters.keys()].sort());
    for (const { name, offset } of manifest.parameters!) {
      const data = parameters.get(name)!;
      expect(all.subarray(offset, offset + data.length)).toEqual(data);
    }
    const prefill = decodeModel(fs.readFileSync(path.join(out, manifest.files.prefill))).graph;
    expect(prefill.input.filter((i) => parameters.has(i.name))).toHaveLength(parameters.size);
  });

  it('by default (external) writes one weights.bin that both graphs\' initializers point into', () => {
    const out = path.join(dir, 'site-external');
    exportWebSite({ checkpoint: runDir, tokenizer, out });
    const manifest = readManifest(out);
    expect(manifest.weights).toBe('external');
    const bytes = fs.readFileSync(path.join(out, manifest.files.weights!));
    for (const graph of [manifest.files.prefill, manifest.files.decodeStep]) {
      const proto = decodeModel(fs.readFileSync(path.join(out, graph))).graph;
      expect(proto.input.some((i) => parameters.has(i.name))).toBe(false);
      const external = proto.initializer.filter((t) => parameters.has(t.name));
      expect(external).toHaveLength(parameters.size);
      for (const tensor of external) {
        const entry = Object.fromEntries(tensor.externalData!.map(({ key, value }) => [key, value]));
        expect(entry.location).toBe('weights.bin');
        const data = parameters.get(tensor.name)!;
        const slice = bytes.subarray(Number(entry.offset), Number(entry.offset) + Number(entry.length));
        expect(new Float32Array(slice.buffer.slice(slice.byteOffset, slice.byteOffset + slice.byteLength))).toEqual(data);
      }
    }
  });

  it('writes a tokenizer.json the page rebuilds to the same tokenizer', () => {
    const rebuilt = Tokenizer.fromTokenizerJsonText(siteTokenizer(tokenizer));
    const text = 'héllo wörld 🙂<|endoftext|> again';
    expect(rebuilt.encode(text)).toEqual(tokenizer.encode(text));
    expect(rebuilt.specialTokenId('<|endoftext|>')).toBe(256);
    expect(rebuilt.hash()).toBe(tokenizer.hash());
  });

  it('replaces an earlier export but refuses a folder that holds something else', () => {
    const out = path.join(dir, 'site-again');
    exportWebSite({ checkpoint: runDir, tokenizer, out });
    fs.writeFileSync(path.join(out, 'stale.txt'), 'from before');
    exportWebSite({ checkpoint: runDir, tokenizer, out });
    expect(fs.existsSync(path.join(out, 'stale.txt'))).toBe(false);
    const other = path.join(dir, 'not-a-site');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'notes.txt'), 'mine');
    expect(() => exportWebSite({ checkpoint: runDir, tokenizer, out: other })).toThrow(/is not empty and holds no earlier export/);
    expect(fs.readdirSync(other)).toEqual(['notes.txt']);
  });

  it('refuses a tokenizer the model was not trained with, before writing anything', () => {
    const vocab = new Map<number, Uint8Array>();
    for (let b = 0; b < 256; b++) vocab.set(b, Uint8Array.of(b));
    const other = new Tokenizer(vocab, [], []);
    const out = path.join(dir, 'site-mismatch');
    expect(() => exportWebSite({ checkpoint: runDir, tokenizer: other, out })).toThrow(/is not the one the model's training data was tokenized with/);
    expect(fs.existsSync(out)).toBe(false);
    expect(() => exportWebSite({ checkpoint: path.join(dir, 'missing'), tokenizer, out })).toThrow(/no checkpoint at/);
    expect(() => exportWebSite({ checkpoint: runDir, tokenizer, out, weights: 'fp16' as never })).toThrow('weights must be one of external, initializers, inputs');
  });

  it('exports a bigger vocabulary than the tokenizer uses, but not a smaller one', () => {
    const small = path.join(dir, 'run-small');
    saveTinyCheckpoint(small, tokenizer, { ...TINY_MODEL, vocabSize: 200 });
    expect(() => exportWebSite({ checkpoint: small, tokenizer, out: path.join(dir, 'site-small') })).toThrow(/the tokenizer has 257 ids but the model's vocabulary has 200/);
  });
});
