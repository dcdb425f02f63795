import { checkGraph, graphProblems } from './check-graph.js';
import { GraphBuilder } from './graph-builder.js';
import { loop } from './loop.js';
import { IR_VERSION, decodeModel, tensorFromProto } from './onnx-proto.js';
import * as op from './ops.js';
import { printGraph } from './print-graph.js';
import { runGraph } from './session.js';
import { hostTensor } from './value.js';
import { transformerLikeBlock } from '../test/models.js';

describe('GraphBuilder', () => {
  it('serializes a ModelProto that decodes to the same graph (IR 8, opset 18)', () => {
    const g = new GraphBuilder('roundtrip');
    const x = g.input('x', 'float32', ['B', 3]);
    const w = g.parameter('w', 'float32', [3, 2]);
    g.output(op.softmax(op.matMul(x, w)), 'probs');
    const model = decodeModel(g.toModel({ producer: 'test' }));
    expect(model.irVersion).toBe(IR_VERSION);
    expect(model.producerName).toBe('test');
    expect(model.opsetImport).toEqual([{ domain: '', version: 18 }]);
    expect(model.graph.input.map((i) => i.name)).toEqual(['x', 'w']);
    expect(model.graph.input[0]!.type.tensorType.shape!.dim).toEqual([{ dimParam: 'B' }, { dimValue: 3 }]);
    expect(model.graph.node.map((n) => n.opType)).toEqual(['MatMul', 'Softmax', 'Identity']); // Identity renames to 'probs'
    expect(model.graph.output.map((o) => o.name)).toEqual(['probs']);
  });

  it('deduplicates constants by content, including those made inside Loop bodies', () => {
    const g = new GraphBuilder('t');
    const a = g.constant([1, 2], 'int64');
    const b = g.constant(hostTensor('int64', [2], [1, 2]));
    expect(a).toBe(b);
    const x = g.input('x', 'float32', [2]);
    const { carried } = loop(g, { tripCount: 2, carried: [x], body: (_b, _i, [c]) => ({ carried: [op.reshape(op.unsqueeze(c!, [0]), [2])] }) });
    g.output(op.squeeze(op.unsqueeze(carried[0]!, [0]), [0]), 'y');
    const model = decodeModel(g.toModel());
    const shapeConstants = model.graph.initializer.filter((t) => t.dataType === 7 && tensorFromProto(t).dims.join() === '1');
    expect(new Set(shapeConstants.map((t) => Array.from(tensorFromProto(t).data as BigInt64Array).join())).size).toBe(shapeConstants.length);
    const bodyAttribute = model.graph.node.find((n) => n.opType === 'Loop')!.attribute[0]!;
    expect(bodyAttribute.g!.initializer ?? []).toHaveLength(0);
  });

  it('leaves nodes and constants that reach no output out of the model', () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', [2]);
    op.mul(op.exp(x), 3); // dead branch
    g.output(op.neg(x), 'y');
    const model = decodeModel(g.toModel());
    expect(model.graph.node.map((n) => n.opType)).toEqual(['Neg', 'Identity']);
    expect(model.graph.initializer ?? []).toHaveLength(0);
  });

  it('gives deterministic scoped names', () => {
    const names = () => {
      const g = new GraphBuilder('t');
      const x = g.input('x', 'float32', [2]);
      g.withScope('layers.0', () => g.withScope('attn', () => op.add(op.mul(x, 2), x)));
      return g.nodes.map((n) => n.name);
    };
    expect(names()).toEqual(['layers.0/attn/Mul', 'layers.0/attn/Add']);
    expect(names()).toEqual(names());
  });

  it('rejects a taken name and values of an unrelated graph', () => {
    const g = new GraphBuilder('t');
    g.input('x', 'float32', [2]);
    expect(() => g.parameter('x', 'float32', [2])).toThrow('input "x": the name is already used in this graph; pick another name');
    const other = new GraphBuilder('other');
    const y = other.input('y', 'float32', [2]);
    expect(() => op.add(g.inputs[0]!, y)).toThrow('Add: inputs come from unrelated graphs ("t" and "other")');
  });

  it('output() renames through Identity and can expose an input', async () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', [2]);
    g.output(x, 'same_as_x');
    g.output(op.neg(x), 'negated');
    const out = await runGraph(g, { x: hostTensor('float32', [2], [1, -2]) });
    expect(Array.from(out.same_as_x!.data as Float32Array)).toEqual([1, -2]);
    expect(Array.from(out.negated!.data as Float32Array)).toEqual([-1, 2]);
  });
});

describe('checkGraph and printGraph', () => {
  it('reports unused inputs by name', () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', [2]);
    g.parameter('unused_weight', 'float32', [2]);
    g.output(op.neg(x), 'y');
    expect(graphProblems(g)).toEqual(['input "unused_weight" (parameter) is not read by any node; remove it or use it']);
    expect(() => checkGraph(g)).toThrow('checkGraph: graph "t" has 1 problem(s):\n- input "unused_weight" (parameter) is not read by any node');
    expect(graphProblems(g, { unusedInputs: false })).toEqual([]);
  });

  it('finds no problems in a transformer-like block with its backward pass', () => {
    expect(graphProblems(transformerLikeBlock(4).training)).toEqual([]);
  });

  it('accepts a graph with a Loop that captures outer values', () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', 'float32', [2]);
    const s = g.input('s', 'float32', [2]);
    const { carried } = loop(g, { tripCount: 3, carried: [s], body: (_b, _i, [c]) => ({ carried: [op.add(c!, x)] }) });
    g.output(carried[0]!, 'out');
    expect(graphProblems(g)).toEqual([]);
  });

  it('prints inputs, constants, nodes with attributes, Loop bodies and outputs', () => {
    const g = new GraphBuilder('demo');
    const x = g.input('x', 'float32', ['B', 3]);
    const w = g.parameter('w', 'float32', [2, 3]);
    const y = op.softmax(op.matMul(x, op.transpose(w)));
    const { carried } = loop(g, { tripCount: 2, carried: [y], body: (_b, _i, [c]) => ({ carried: [op.mul(c!, 2)] }) });
    g.output(carried[0]!, 'y');
    const lines = printGraph(g).split('\n');
    expect(lines[0]).toBe('graph demo (opset 18)');
    expect(lines).toContain('  input x: float32[B,3]');
    expect(lines).toContain('  parameter w: float32[2,3]');
    expect(lines).toContain('  Transpose: float32[3,2] = Transpose(w) {perm=[1, 0]}');
    expect(lines).toContain('  Softmax: float32[B,2] = Softmax(MatMul) {axis=1}');
    expect(lines.some((l) => l.startsWith('  Loop: float32[B,2] = Loop(const_int64_scalar, const_bool_scalar, Softmax) {body=<graph loop_body>}'))).toBe(true);
    expect(lines).toContain('    graph loop_body');
    expect(lines).toContain('  output y: float32[B,2]');
  });
});
