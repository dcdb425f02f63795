import { checkConfigFields, editDistance, fieldTypesOf, nearestName } from './config-fields.js';

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and adjacent swaps as one edit each', () => {
    expect(editDistance('dModel', 'dModel')).toBe(0);
    expect(editDistance('dModl', 'dModel')).toBe(1);
    expect(editDistance('dMoedl', 'dModel')).toBe(1); // swap
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
});

describe('nearestName', () => {
  const fields = ['vocabSize', 'contextLength', 'dModel', 'numLayers', 'numHeads', 'dFf'];
  it('finds typos, other casings and snake or kebab spellings', () => {
    expect(nearestName('dmodel', fields)).toBe('dModel');
    expect(nearestName('d_model', fields)).toBe('dModel');
    expect(nearestName('num-heads', fields)).toBe('numHeads');
    expect(nearestName('numHeds', fields)).toBe('numHeads');
    expect(nearestName('context_len', fields)).toBe('contextLength');
  });
  it('suggests nothing for a name unlike every field', () => {
    expect(nearestName('learningRate', fields)).toBeUndefined();
  });
});

describe('checkConfigFields', () => {
  const fields = { ...fieldTypesOf({ steps: 1, name: 'x', fast: false, tags: ['a'] }), mode: ['pre', 'post'] as const };
  it('accepts known fields of the right type and undefined values', () => {
    expect(() => checkConfigFields('C', { steps: 2, name: 'y', fast: true, tags: [], mode: 'post', extra: undefined as never }, { ...fields, extra: 'number' })).not.toThrow();
    expect(() => checkConfigFields('C', { steps: undefined }, fields)).not.toThrow();
  });
  it('names an unknown field, the nearest known one and the list', () => {
    expect(() => checkConfigFields('C', { stepz: 2 }, fields)).toThrow('C: unknown field "stepz"; did you mean "steps"? (fields: steps, name, fast, tags, mode)');
    expect(() => checkConfigFields('C', { zzzzzzzz: 2 }, fields)).toThrow(/^C: unknown field "zzzzzzzz" \(fields: /);
  });
  it('names a value of the wrong type', () => {
    expect(() => checkConfigFields('C', { steps: '2' }, fields)).toThrow('C: steps must be a number, got the string "2"');
    expect(() => checkConfigFields('C', { fast: 1 }, fields)).toThrow('C: fast must be a boolean, got the number 1');
    expect(() => checkConfigFields('C', { tags: [1] }, fields)).toThrow('C: tags must be a list of strings, got an array [1]');
    expect(() => checkConfigFields('C', { mode: 'mid' }, fields)).toThrow('C: mode must be one of "pre", "post", got the string "mid"');
    expect(() => checkConfigFields('C', { name: null }, fields)).toThrow('C: name must be a string, got null');
    expect(() => checkConfigFields('C', [1], fields)).toThrow('C: expected an object of fields, got an array [1]');
  });
});
