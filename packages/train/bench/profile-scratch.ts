import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { initParameters, resolveTransformerConfig } from '@cs336/nn';
import { Random, TrainingSession, buildArtifacts } from '@cs336/train';
const req = createRequire(createRequire(import.meta.url).resolve('@cs336/graph/package.json'));
const ort = req('onnxruntime-node');
const model = resolveTransformerConfig(JSON.parse(process.env.PROFILE_MODEL ?? '{"vocabSize":10000,"contextLength":128,"dModel":256,"numLayers":4,"numHeads":8,"dFf":1024}'));
const B = 8, T = 128, K = 1;
const dir = '/tmp/trainscratch/prof';
const artifacts = buildArtifacts(dir, { model, batchSize: B, contextLength: T }, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1 });
const state = TrainingSession.freshState(initParameters(model, { seed: 0 }), artifacts.manifest);
const session = await ort.InferenceSession.create(path.join(dir, 'train_step.onnx'), { intraOpNumThreads: 2, enableProfiling: true, profileFilePrefix: '/tmp/trainscratch/prof/p', graphOptimizationLevel: 'all', optimizedModelFilePath: '/tmp/trainscratch/prof/opt.onnx' });
const random = Random.seeded(7);
const feeds: any = {
  step: new ort.Tensor('int64', new BigInt64Array([0n]), []),
  tokens: new ort.Tensor('int64', BigInt64Array.from({ length: K * B * (T + 1) }, () => BigInt(random.nextInt(model.vocabSize))), [K, B, T + 1]),
  learning_rates: new ort.Tensor('float32', new Float32Array(K).fill(1e-3), [K]),
};
for (const info of artifacts.manifest.parameters) {
  feeds[info.name] = new ort.Tensor('float32', state.parameters.get(info.name)!, info.shape);
  feeds['optimizer.m.' + info.name] = new ort.Tensor('float32', state.m.get(info.name)!, info.shape);
  feeds['optimizer.v.' + info.name] = new ort.Tensor('float32', state.v.get(info.name)!, info.shape);
}
await session.run(feeds);
const t0 = performance.now();
await session.run(feeds);
console.log('run s', (performance.now() - t0) / 1000);
const file = session.endProfiling();
console.log(file);
