/**
 * GraphBuilder: records an ONNX graph as a list of nodes over named Values, then serializes it.
 *
 * Names are deterministic: a node is named "<scope>/<OpType>" with a numeric suffix when that name
 * is taken, and its first output carries the node's name. A Loop body is a child builder that shares
 * its parent's name table (ONNX wants names unique across a model and its subgraphs) and may use any
 * Value of an enclosing graph directly; ONNX treats such names as captured from the outer scope.
 * Constants always live in the root graph as initializers, deduplicated by content, so shape constants
 * used in many places (and inside Loop bodies) are stored once.
 */
import type { AttributeValue, GraphProto, NodeProto } from './onnx-proto.js';
import { encodeModel, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from './onnx-proto.js';
import type { DType, Dim, HostTensor, Value } from './value.js';
import { formatShape, hostTensor } from './value.js';

/** The ONNX default-domain opset this package targets; see README ("Why opset 18"). */
export const DEFAULT_OPSET = 18;

export type NodeAttribute = AttributeValue | GraphBuilder | undefined;

/** One recorded node. `attributes` may hold a GraphBuilder (a Loop body), serialized on toModel. */
export interface GraphNode {
  readonly name: string;
  readonly opType: string;
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  readonly attributes: Readonly<Record<string, NodeAttribute>>;
}

export interface OutputSpec {
  dtype: DType;
  shape: readonly Dim[];
}

class GraphValue implements Value {
  readonly shape: readonly Dim[];
  constructor(
    readonly name: string,
    readonly dtype: DType,
    shape: readonly Dim[],
    readonly graph: GraphBuilder,
  ) {
    this.shape = Object.freeze([...shape]);
  }
  toString(): string {
    return `${this.name}: ${this.dtype}${formatShape(this.shape)}`;
  }
}

/** Names shared by a root graph and all of its subgraphs. */
class NameTable {
  private readonly used = new Set<string>();
  private unknownDims = 0;

  has(name: string): boolean {
    return this.used.has(name);
  }
  /** `base` if free, else the first free `base_1`, `base_2`, ... */
  peek(base: string): string {
    if (!this.used.has(base)) return base;
    for (let i = 1; ; i++) if (!this.used.has(`${base}_${i}`)) return `${base}_${i}`;
  }
  take(base: string): string {
    const name = this.peek(base);
    this.used.add(name);
    return name;
  }
  reserveExact(name: string, what: string): void {
    if (!name) throw new Error(`${what} needs a non-empty name`);
    if (this.used.has(name)) throw new Error(`${what} "${name}": the name is already used in this graph; pick another name`);
    this.used.add(name);
  }
  newUnknownDim(): string {
    return `?${++this.unknownDims}`;
  }
}

interface ProducerEntry {
  node: GraphNode;
  index: number;
}

export class GraphBuilder {
  readonly name: string;
  readonly opset: number;
  /** The enclosing graph for a Loop body, undefined for the model's main graph. */
  readonly parent: GraphBuilder | undefined;
  private readonly names: NameTable;
  private readonly graphInputs: Value[] = [];
  private readonly parameterList: Value[] = [];
  private readonly graphOutputs: Value[] = [];
  private readonly nodeList: GraphNode[] = [];
  private readonly initializers = new Map<string, HostTensor>();
  private readonly constantsByContent = new Map<string, Value>();
  private readonly producers = new Map<string, ProducerEntry>();
  private scope: string[] = [];

  constructor(name = 'main', options: { opset?: number; parent?: GraphBuilder } = {}) {
    this.name = name;
    this.parent = options.parent;
    this.opset = options.parent?.opset ?? options.opset ?? DEFAULT_OPSET;
    this.names = options.parent ? options.parent.names : new NameTable();
    if (this.opset !== DEFAULT_OPSET) {
      // The shape rules in ops.ts (axes as inputs for Reduce*, Split sizes, ...) are written for 18.
      throw new Error(`GraphBuilder: opset ${this.opset} is not supported; use ${DEFAULT_OPSET} (the opset ops.ts implements)`);
    }
  }

  /** The main graph this builder belongs to (itself unless it is a Loop body). */
  get root(): GraphBuilder {
    return this.parent ? this.parent.root : this;
  }

  get parameters(): readonly Value[] {
    return this.parameterList;
  }
  get inputs(): readonly Value[] {
    return this.graphInputs;
  }
  get outputs(): readonly Value[] {
    return this.graphOutputs;
  }
  get nodes(): readonly GraphNode[] {
    return this.nodeList;
  }

  /** A graph input fed at run time. */
  input(name: string, dtype: DType, shape: readonly Dim[]): Value {
    this.names.reserveExact(name, 'input');
    const value = new GraphValue(name, dtype, shape, this);
    this.graphInputs.push(value);
    return value;
  }

  /** A trainable tensor: a graph input (fed each run, like ORT training artifacts), listed in `parameters`. */
  parameter(name: string, dtype: DType, shape: readonly number[]): Value {
    for (const d of shape) {
      if (typeof d !== 'number') throw new Error(`parameter "${name}": shape ${formatShape(shape)} must be static numbers`);
    }
    const value = this.input(name, dtype, shape);
    this.parameterList.push(value);
    return value;
  }

  /**
   * A constant stored as an initializer of the main graph (deduplicated by dtype, dims and bytes).
   * A number becomes a scalar, a number[] a 1-D tensor; `dtype` defaults to float32 for numbers.
   */
  constant(value: HostTensor | number | number[], dtype?: DType): Value {
    let tensor: HostTensor;
    if (typeof value === 'number') tensor = hostTensor(dtype ?? 'float32', [], [value]);
    else if (Array.isArray(value)) tensor = hostTensor(dtype ?? 'float32', [value.length], value);
    else {
      if (dtype && dtype !== value.dtype) throw new Error(`constant: tensor is ${value.dtype} but dtype ${dtype} was requested; cast it first`);
      tensor = value;
    }
    const root = this.root;
    const key = constantKey(tensor);
    const existing = root.constantsByContent.get(key);
    if (existing) return existing;
    const name = this.names.take(`const_${tensor.dtype}_${tensor.dims.length === 0 ? 'scalar' : tensor.dims.join('x')}`);
    // Snapshot the data so later edits of the caller's array cannot change the graph.
    const stored: HostTensor = { dtype: tensor.dtype, dims: [...tensor.dims], data: tensor.data.slice() };
    const constantValue = new GraphValue(name, tensor.dtype, tensor.dims, root);
    root.initializers.set(name, stored);
    root.constantsByContent.set(key, constantValue);
    return constantValue;
  }

  /** The data of `value` when it is a constant made by `constant()`, else undefined. */
  constantData(value: Value): HostTensor | undefined {
    return this.root.initializers.get(value.name);
  }

  /** Marks `value` as a graph output, named `name` (an Identity node renames it when needed). */
  output(value: Value, name?: string): Value {
    this.assertVisible(value, 'output');
    const wanted = name ?? value.name;
    const producedHere = this.producers.has(value.name);
    const alreadyOutput = this.graphOutputs.some((o) => o.name === value.name);
    if (wanted === value.name && producedHere && !alreadyOutput) {
      this.graphOutputs.push(value);
      return value;
    }
    // Inputs, constants, outer values, duplicates and renames go through Identity.
    let outName: string;
    if (name === undefined) outName = this.names.take(`${value.name}/output`);
    else {
      this.names.reserveExact(name, 'output');
      outName = name;
    }
    const out = new GraphValue(outName, value.dtype, value.shape, this);
    this.recordNode('Identity', [value], [out], {});
    this.graphOutputs.push(out);
    return out;
  }

  /** Runs `fn` with node and value names prefixed by "prefix/". Nested scopes join with "/". */
  withScope<T>(prefix: string, fn: () => T): T {
    this.scope.push(prefix);
    try {
      return fn();
    } finally {
      this.scope.pop();
    }
  }

  /** The name the next node of `opType` would get (used in error messages before it exists). */
  peekNodeName(opType: string): string {
    return this.names.peek(this.scoped(opType));
  }

  /** A fresh symbolic dim for sizes only known at run time (written as an anonymous ONNX dim). */
  unknownDim(): string {
    return this.names.newUnknownDim();
  }

  /**
   * Adds a node of `opType` and returns its outputs. The low-level form behind ops.ts; prefer the
   * typed op functions. Inputs must belong to this graph or an enclosing one.
   */
  addNode(opType: string, inputs: readonly Value[], outputs: readonly OutputSpec[], attributes: Record<string, NodeAttribute> = {}): Value[] {
    for (const input of inputs) this.assertVisible(input, opType);
    const nodeName = this.names.take(this.scoped(opType));
    const outputValues = outputs.map((spec, i) => {
      const valueName = i === 0 ? nodeName : this.names.take(`${nodeName}:${i}`);
      return new GraphValue(valueName, spec.dtype, spec.shape, this);
    });
    this.recordNode(opType, inputs, outputValues, attributes, nodeName);
    return outputValues;
  }

  /** Node producing `value`, searching this graph and its enclosing graphs; undefined for inputs and constants. */
  producerOf(value: Value): ProducerEntry | undefined {
    return this.producers.get(value.name) ?? this.parent?.producerOf(value);
  }

  /** A Loop body builder nested in this graph. */
  createSubgraph(name: string): GraphBuilder {
    return new GraphBuilder(this.names.take(this.scoped(name)), { parent: this });
  }

  /** Declares a formal input of a subgraph (Loop body); used by loop(). */
  subgraphInput(baseName: string, dtype: DType, shape: readonly Dim[]): Value {
    if (!this.parent) throw new Error('subgraphInput is only for Loop bodies; use input() on the main graph');
    const value = new GraphValue(this.names.take(`${this.name}/${baseName}`), dtype, shape, this);
    this.graphInputs.push(value);
    return value;
  }

  /** True when `graph` is this builder or encloses it. */
  isWithin(graph: GraphBuilder): boolean {
    return graph === this || (this.parent?.isWithin(graph) ?? false);
  }

  /**
   * The graph as a GraphProto. Nodes whose results reach no output are left out (all ops here are
   * pure), so values built but never used, such as intermediate results that gradient rules
   * simplified away, cost nothing at run time.
   */
  toGraphProto(live: ReadonlySet<GraphNode> = this.root.liveNodes()): GraphProto {
    const nodes: NodeProto[] = this.nodeList.filter((node) => live.has(node)).map((node) => {
      const attributes: Record<string, AttributeValue | undefined> = {};
      for (const [key, v] of Object.entries(node.attributes)) attributes[key] = v instanceof GraphBuilder ? v.toGraphProto(live) : v;
      return makeNode(
        node.opType,
        node.inputs.map((v) => v.name),
        node.outputs.map((v) => v.name),
        node.name,
        attributes,
      );
    });
    const read = new Set<string>();
    for (const node of live) for (const x of node.inputs) read.add(x.name);
    for (const v of this.graphOutputs) read.add(v.name);
    const initializers = [...this.initializers].filter(([name]) => read.has(name)).map(([name, tensor]) => makeTensor(name, tensor));
    const inputs = this.graphInputs.map((v) => makeValueInfo(v.name, v.dtype, v.shape));
    const outputs = this.graphOutputs.map((v) => makeValueInfo(v.name, v.dtype, v.shape));
    return makeGraph(nodes, this.name, inputs, outputs, initializers);
  }

  /** Nodes of this graph and its subgraphs that contribute to this graph's outputs. */
  liveNodes(): Set<GraphNode> {
    const producers = new Map<string, GraphNode>();
    const index = (b: GraphBuilder) => {
      for (const node of b.nodeList) {
        for (const out of node.outputs) producers.set(out.name, node);
        for (const a of Object.values(node.attributes)) if (a instanceof GraphBuilder) index(a);
      }
    };
    index(this);
    const live = new Set<GraphNode>();
    const pending = this.graphOutputs.map((v) => v.name);
    while (pending.length) {
      const node = producers.get(pending.pop() as string);
      if (!node || live.has(node)) continue;
      live.add(node);
      for (const x of node.inputs) pending.push(x.name);
      for (const a of Object.values(node.attributes)) if (a instanceof GraphBuilder) for (const out of a.graphOutputs) pending.push(out.name);
    }
    return live;
  }

  /** The serialized ONNX ModelProto (IR 8, default-domain opset 18). */
  toModel(options: { producer?: string } = {}): Uint8Array {
    if (this.parent) throw new Error(`toModel: "${this.name}" is a Loop body; call toModel on its main graph`);
    if (this.graphOutputs.length === 0) throw new Error(`toModel: graph "${this.name}" has no outputs; mark results with g.output(value)`);
    return encodeModel(makeModel(this.toGraphProto(), { opset: this.opset, producer: options.producer }));
  }

  private scoped(base: string): string {
    return this.scope.length ? `${this.scope.join('/')}/${base}` : base;
  }

  private recordNode(opType: string, inputs: readonly Value[], outputs: Value[], attributes: Record<string, NodeAttribute>, nodeName?: string): void {
    const name = nodeName ?? this.names.take(this.scoped(opType));
    const node: GraphNode = { name, opType, inputs: [...inputs], outputs, attributes };
    this.nodeList.push(node);
    outputs.forEach((v, index) => this.producers.set(v.name, { node, index }));
  }

  private assertVisible(value: Value, what: string): void {
    if (!(value instanceof GraphValue)) throw new Error(`${what}: ${String(value)} is not a Value made by a GraphBuilder`);
    if (!this.isWithin(value.graph)) {
      throw new Error(
        `${what}: value "${value.name}" belongs to graph "${value.graph.name}", which is not "${this.name}" or a graph enclosing it`,
      );
    }
  }
}

function constantKey(tensor: HostTensor): string {
  const bytes = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  return `${tensor.dtype}|${tensor.dims.join(',')}|${Buffer.from(bytes).toString('base64')}`;
}

/** The innermost graph among the values' graphs; throws when they are not on one chain of nesting. */
export function graphOf(values: readonly Value[], opType: string): GraphBuilder {
  const first = values[0];
  if (!first) throw new Error(`${opType}: needs at least one Value input`);
  let inner = first.graph;
  for (const v of values) {
    if (v.graph.isWithin(inner)) inner = v.graph;
    else if (!inner.isWithin(v.graph)) {
      throw new Error(`${opType}: inputs come from unrelated graphs ("${inner.name}" and "${v.graph.name}")`);
    }
  }
  return inner;
}
