// 'onnxruntime-node' inside jest: the single instance loaded by onnx-test-environment.cjs.
module.exports = globalThis.__cs336_onnxruntime;
