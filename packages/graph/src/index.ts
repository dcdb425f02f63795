// @cs336/graph — ONNX graph builder, reverse-mode autodiff and ONNX Runtime sessions.
export type { DType, Dim, Value, TypedArray, HostTensor } from './value.js';
export { hostTensor, isFloatDType, isStaticShape, elementCount, formatShape, toNumbers, float16Bits, float16Value, DTYPES } from './value.js';

export { GraphBuilder, graphOf, DEFAULT_OPSET } from './graph-builder.js';
export type { GraphNode, OutputSpec, NodeAttribute } from './graph-builder.js';

export { encodeModel, decodeModel, makeNode, makeGraph, makeModel, makeTensor, makeValueInfo, tensorFromProto, attributeValue, IR_VERSION } from './onnx-proto.js';
export type { ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto, AttributeProto, AttributeValue } from './onnx-proto.js';

export { broadcastShapes, broadcastAxes, normalizeAxis } from './broadcast.js';

export {
  add,
  sub,
  mul,
  div,
  pow,
  neg,
  sqrt,
  reciprocal,
  exp,
  floor,
  log,
  erf,
  tanh,
  sigmoid,
  relu,
  abs,
  sign,
  matMul,
  transpose,
  reshape,
  unsqueeze,
  squeeze,
  concat,
  slice,
  expand,
  pad,
  gather,
  gatherElements,
  scatterElements,
  scatterND,
  oneHot,
  reduceSum,
  reduceMean,
  reduceMax,
  argMax,
  cumSum,
  topK,
  softmax,
  logSoftmax,
  where,
  cast,
  trilu,
  equal,
  less,
  greater,
  not,
  dropout,
  shape,
  shapeTensor,
  constantOfShape,
  identity,
  max,
  min,
  sum,
  int64s,
  SLICE_END,
  size,
  nonZero,
  reduceSumOverAxes,
  split,
  staticProduct,
} from './ops.js';
export type { Operand, ScatterReduction } from './ops.js';

export { Session, runGraph, assertCudaProviderInstalled, CudaUnavailableError, onnxruntimeBinaryDir, CUDA_PROVIDER_PACKAGE, CUDA_PROVIDER_FILES, DEFAULT_SESSION_OPTIONS, FLOAT64_DISABLED_OPTIMIZERS, modelUsesFloat64, resolveSessionOptions } from './session.js';
export type { SessionOptions, Device, OptimizationLevel, InputSignature } from './session.js';
export { onnxruntimeVersions, probeExecutionProviders } from './execution-providers.js';
export type { ProviderStatus } from './execution-providers.js';
export { measureMatMulFlops } from './matmul-probe.js';
export type { MatMulProbeOptions, MatMulProbeResult } from './matmul-probe.js';

export { gradients, unbroadcast } from './autodiff.js';
export { GRADIENT_RULES, NOT_DIFFERENTIABLE, BROADCAST_SAFE, shapeOf, zerosLike } from './gradient-rules.js';
export type { GradientRule, GradientContext } from './gradient-rules.js';
export { loop } from './loop.js';
export type { LoopSpec, LoopResult } from './loop.js';
export { checkGraph, graphProblems } from './check-graph.js';
export type { CheckGraphOptions } from './check-graph.js';
export { printGraph } from './print-graph.js';
export { checkConfigFields, didYouMean, editDistance, fieldTypesOf, nearestName } from './config-fields.js';
export type { ConfigFieldType } from './config-fields.js';
export { CUDA_PROVIDER_TARBALL_DIR, CudaProviderInstallError, checkCudaProviderLoads, installCudaProvider } from './install-cuda-provider.js';
export type { InstallCudaProviderOptions, InstallCudaProviderResult } from './install-cuda-provider.js';
export { bakeParameters } from './bake-parameters.js';
export type { ExternalWeights } from './bake-parameters.js';
