import { Session, decodeModel, type HostTensor } from '@cs336/graph';
import { initParameters, resolveTransformerConfig, transformerParameters } from '@cs336/nn';
import { IDS_INPUT, LAST_POSITION_INPUT, LOGITS_OUTPUT, buildPrefillGraph } from '@cs336/train';
import { bakeParameters } from '@cs336/graph';

const model = resolveTransformerConfig({ vocabSize: 40, contextLength: 8, dModel: 16, numLayers: 2, numHeads: 2, dFf: 32 });
const specs = transformerParameters(model);
const weights = initParameters(model, { seed: 3 });
const parameters = new Map(specs.map((spec) => [spec.name, weights[spec.name] as Float32Array]));

describe('bakeParameters', () => {
  const graph = buildPrefillGraph(model).toModel();

  it('moves every parameter from the inputs to the initializers, leaving the other inputs', () => {
    const baked = decodeModel(bakeParameters(graph, parameters)).graph;
    expect(baked.input.map((i) => i.name)).toEqual([IDS_INPUT, LAST_POSITION_INPUT]);
    const initializers = new Map(baked.initializer.map((t) => [t.name, t]));
    for (const spec of specs) {
      const tensor = initializers.get(spec.name)!;
      expect(tensor.dims).toEqual(spec.shape);
      expect(new Float32Array(new Uint8Array(tensor.rawData).buffer)).toEqual(parameters.get(spec.name));
    }
  });

  it('gives the logits of the graph fed with the same parameters', async () => {
    const ids: HostTensor = { dtype: 'int64', dims: [1, 5], data: BigInt64Array.from([1, 7, 3, 39, 0], BigInt) };
    const last: HostTensor = { dtype: 'int64', dims: [], data: BigInt64Array.of(4n) };
    const fed = await Session.create(graph);
    const baked = await Session.create(bakeParameters(graph, parameters));
    const feeds: Record<string, HostTensor> = { [IDS_INPUT]: ids, [LAST_POSITION_INPUT]: last };
    for (const spec of specs) feeds[spec.name] = { dtype: 'float32', dims: spec.shape, data: parameters.get(spec.name)! };
    const expected = (await fed.run(feeds))[LOGITS_OUTPUT]!.data as Float32Array;
    const actual = (await baked.run({ [IDS_INPUT]: ids, [LAST_POSITION_INPUT]: last }))[LOGITS_OUTPUT]!.data as Float32Array;
    expect(actual.length).toBe(model.vocabSize);
    // Constant weights let ORT pre-pack MatMul operands, which may reorder a sum: equal to float32 rounding.
    for (let i = 0; i < actual.length; i++) expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThan(1e-5 * (1 + Math.abs(expected[i]!)));
    await fed.release();
    await baked.release();
  });

  it('with external weights, points each initializer at its bytes in the shared file', () => {
    const byteOffsets = new Map(specs.map((spec, i) => [spec.name, i * 1000]));
    const baked = decodeModel(bakeParameters(graph, parameters, { location: 'weights.bin', byteOffsets })).graph;
    expect(baked.input.map((i) => i.name)).toEqual([IDS_INPUT, LAST_POSITION_INPUT]);
    const initializers = new Map(baked.initializer.map((t) => [t.name, t]));
    specs.forEach((spec, i) => {
      const tensor = initializers.get(spec.name)!;
      expect(tensor).toMatchObject({ dims: spec.shape, dataType: 1, dataLocation: 1 });
      expect(tensor.rawData ?? new Uint8Array(0)).toHaveLength(0);
      expect(tensor.externalData).toEqual([
        { key: 'location', value: 'weights.bin' }, { key: 'offset', value: String(i * 1000) }, { key: 'length', value: String(parameters.get(spec.name)!.byteLength) },
      ]);
    });
    expect(() => bakeParameters(graph, parameters, { location: 'weights.bin', byteOffsets: new Map() })).toThrow(/no byte offset in weights.bin for/);
  });

  it('names a parameter of the wrong size or one the graph does not take', () => {
    const name = specs[0]!.name;
    expect(() => bakeParameters(graph, new Map([[name, new Float32Array(3)]]))).toThrow(`"${name}" has 3 values`);
    expect(() => bakeParameters(graph, new Map([['no.such.weight', new Float32Array(1)]]))).toThrow('the graph has no input named "no.such.weight"');
  });
});
