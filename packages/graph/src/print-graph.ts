/**
 * printGraph: a readable text dump of a graph, one line per input, constant, node and output, with
 * Loop bodies indented under their node. Meant for debugging and for tests that compare structure.
 *
 *   graph mlp (opset 18)
 *     input x: float64[N,3]
 *     parameter w1: float64[8,3]
 *     constant const_int64_2: int64[2] = [0, 1]
 *     MatMul: float64[N,8] = MatMul(x, Transpose)
 *     output losses: float64[25]
 */
import type { GraphBuilder, NodeAttribute } from './graph-builder.js';
import type { Value } from './value.js';
import { formatShape, toNumbers } from './value.js';

const MAX_CONSTANT_VALUES = 8;

function typeOf(v: Value): string {
  return `${v.dtype}${formatShape(v.shape)}`;
}

function formatAttribute(value: NodeAttribute): string {
  if (value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'string') return String(value);
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  if ('toGraphProto' in value) return `<graph ${value.name}>`;
  if ('dtype' in value) return `<tensor ${value.dtype}${formatShape(value.dims)}>`;
  return '<attribute>';
}

export function printGraph(g: GraphBuilder, indent = ''): string {
  const lines: string[] = [`${indent}graph ${g.name}${g.parent ? '' : ` (opset ${g.opset})`}`];
  const pad = `${indent}  `;
  for (const v of g.inputs) lines.push(`${pad}${g.parameters.includes(v) ? 'parameter' : 'input'} ${v.name}: ${typeOf(v)}`);
  if (!g.parent) {
    const constants = new Map<string, Value>();
    const collect = (b: GraphBuilder) => {
      for (const node of b.nodes) {
        for (const x of node.inputs) if (g.constantData(x)) constants.set(x.name, x);
        for (const a of Object.values(node.attributes)) if (a && typeof a === 'object' && 'toGraphProto' in a) collect(a as GraphBuilder);
      }
    };
    collect(g);
    for (const c of [...constants.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      const data = g.constantData(c);
      const shown = data && data.data.length <= MAX_CONSTANT_VALUES ? ` = [${toNumbers(data).join(', ')}]` : '';
      lines.push(`${pad}constant ${c.name}: ${typeOf(c)}${shown}`);
    }
  }
  for (const node of g.nodes) {
    const attributes = Object.entries(node.attributes)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${formatAttribute(v)}`);
    const outs = node.outputs.map((v) => `${v.name}: ${typeOf(v)}`).join(', ');
    lines.push(`${pad}${outs} = ${node.opType}(${node.inputs.map((v) => v.name).join(', ')})${attributes.length ? ` {${attributes.join(', ')}}` : ''}`);
    for (const a of Object.values(node.attributes)) if (a && typeof a === 'object' && 'toGraphProto' in a) lines.push(printGraph(a as GraphBuilder, `${pad}  `));
  }
  for (const v of g.outputs) lines.push(`${pad}output ${v.name}: ${typeOf(v)}`);
  return lines.join('\n');
}
