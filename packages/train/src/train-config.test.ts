import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_TRAIN_CONFIG, applyOverrides, readRunConfigFile, resolveTrainConfig } from './train-config.js';

describe('resolveTrainConfig', () => {
  it('fills defaults, derives the cosine cycle from the step count, and freezes', () => {
    const config = resolveTrainConfig({ trainData: 'a.bin', steps: 300 });
    expect(config.batchSize).toBe(DEFAULT_TRAIN_CONFIG.batchSize);
    expect(config.cosineCycleSteps).toBe(300);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names the bad field, its value and the fix', () => {
    expect(() => resolveTrainConfig({ trainData: 'a', batchSize: 0 })).toThrow('TrainConfig: batchSize must be at least 1, got 0');
    expect(() => resolveTrainConfig({ trainData: 'a', stepsPerRun: 2.5 })).toThrow(/stepsPerRun must be a non-negative integer, got 2.5/);
    expect(() => resolveTrainConfig({ trainData: 'a', beta2: 1 })).toThrow(/beta2 must be in \[0, 1\), got 1/);
    expect(() => resolveTrainConfig({ trainData: 'a', minLearningRate: 1, maxLearningRate: 0.1 })).toThrow(/minLearningRate 1 exceeds maxLearningRate 0.1/);
    expect(() => resolveTrainConfig({})).toThrow(/trainData is empty/);
    expect(() => resolveTrainConfig({ trainData: 'a', lr: 1 } as never)).toThrow(/unknown field "lr"/);
    expect(() => resolveTrainConfig({ trainData: 'a', stpes: 1 } as never)).toThrow('TrainConfig: unknown field "stpes"; did you mean "steps"?');
    expect(() => resolveTrainConfig({ trainData: 'a', steps: '100' } as never)).toThrow('TrainConfig: steps must be a number, got the string "100"');
    expect(() => resolveTrainConfig({ trainData: 'a', device: 'tpu' as never })).toThrow('TrainConfig: device must be one of "cpu", "cuda", got the string "tpu"');
  });
});

describe('applyOverrides', () => {
  it('parses values by the field type, accepts aliases and model fields, and reports each change', () => {
    const { train, model, changes } = applyOverrides({ steps: 100 }, { dModel: 64 }, { lr: '3e-3', steps: '200', 'run-dir': 'runs/x', 'model.dModel': '128', 'model-num-layers': '2' }, { dModel: 64, numLayers: 4 });
    expect(train).toEqual({ steps: 200, maxLearningRate: 3e-3, runDir: 'runs/x' });
    expect(model).toEqual({ dModel: 128, numLayers: 2 });
    expect(changes).toEqual([
      { field: 'maxLearningRate', from: 1e-3, to: 3e-3 },
      { field: 'steps', from: 100, to: 200 },
      { field: 'runDir', from: 'runs/default', to: 'runs/x' },
      { field: 'model.dModel', from: 64, to: 128 },
      { field: 'model.numLayers', from: 4, to: 2 },
    ]);
  });

  it('maps --init-from FILE to the initFrom field (a path, kept as text)', () => {
    expect(applyOverrides({}, {}, { 'init-from': 'runs/a/checkpoint.safetensors' }).train).toEqual({ initFrom: 'runs/a/checkpoint.safetensors' });
  });

  it('rejects unknown flags and non-numbers', () => {
    expect(() => applyOverrides({}, {}, { lrr: '1' })).toThrow(/unknown option --lrr/);
    expect(() => applyOverrides({}, {}, { steps: 'many' })).toThrow('--steps needs a number, got "many"');
    expect(() => applyOverrides({}, {}, { 'model.dModle': '1' }, { dModel: 1 })).toThrow(/unknown model field "dModle" in --model.dModle; did you mean "dModel"\?/);
    expect(() => applyOverrides({}, {}, { 'max-learning-rat': '1' })).toThrow(/unknown option --max-learning-rat; did you mean "--maxLearningRate"\?/);
    // A misspelt key in the file's model section no longer makes --model.<that key> acceptable.
    expect(() => applyOverrides({}, { dmodel: 8 }, { 'model.dmodel': '16' })).toThrow(/unknown model field "dmodel"/);
  });
});

describe('readRunConfigFile', () => {
  it('splits the model section from the train fields', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'train-config-'));
    const file = path.join(dir, 'cfg.json');
    fs.writeFileSync(file, JSON.stringify({ model: { dModel: 32 }, steps: 5, trainData: 'x.bin' }));
    expect(readRunConfigFile(file)).toEqual({ model: { dModel: 32 }, train: { steps: 5, trainData: 'x.bin' } });
    fs.writeFileSync(file, JSON.stringify({ model: { dModel: 32, numHeds: 4 }, steps: 5 }));
    expect(() => readRunConfigFile(file)).toThrow(`${file}: "model": unknown field "numHeds"; did you mean "numHeads"?`);
    fs.writeFileSync(file, JSON.stringify({ modle: { dModel: 32 }, steps: 5 }));
    expect(() => readRunConfigFile(file)).toThrow(`${file}: unknown field "modle"; did you mean "model"?`);
    fs.writeFileSync(file, JSON.stringify({ model: { dModel: 32 }, batchSize: '8' }));
    expect(() => readRunConfigFile(file)).toThrow(`${file}: batchSize must be a number, got the string "8"`);
    fs.writeFileSync(file, '{nope');
    expect(() => readRunConfigFile(file)).toThrow(/cannot read config .*cfg\.json/);
    fs.rmSync(dir, { recursive: true });
  });
});
