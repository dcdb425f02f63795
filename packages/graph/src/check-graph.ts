/**
 * checkGraph: structural checks on a built graph before it reaches ORT, with messages that name the
 * node or value at fault. (ORT checks types and kernels when it loads the model; this catches the
 * mistakes of building: outputs never computed, inputs nobody reads, Loop bodies that break the
 * Loop contract.)
 */
import type { GraphBuilder } from './graph-builder.js';

export interface CheckGraphOptions {
  /** Report graph inputs (including parameters) that no node reads. Default true. */
  unusedInputs?: boolean;
}

/** Every problem found, as sentences; empty when the graph is sound. */
export function graphProblems(g: GraphBuilder, options: CheckGraphOptions = {}): string[] {
  const problems: string[] = [];
  checkInto(g, new Set<string>(), options.unusedInputs ?? true, problems);
  return problems;
}

/** Throws one error listing every problem graphProblems finds. */
export function checkGraph(g: GraphBuilder, options: CheckGraphOptions = {}): void {
  const problems = graphProblems(g, options);
  if (problems.length) throw new Error(`checkGraph: graph "${g.name}" has ${problems.length} problem(s):\n- ${problems.join('\n- ')}`);
}

function checkInto(g: GraphBuilder, outerDefined: ReadonlySet<string>, unusedInputs: boolean, problems: string[]): Set<string> {
  const defined = new Set(outerDefined);
  const used = new Set<string>();
  for (const v of g.inputs) defined.add(v.name);
  for (const node of g.nodes) {
    for (const x of node.inputs) {
      used.add(x.name);
      if (!defined.has(x.name) && !g.constantData(x)) problems.push(`node ${node.name} (${node.opType}) reads "${x.name}" before it is defined`);
    }
    for (const attribute of Object.values(node.attributes)) {
      if (attribute && typeof attribute === 'object' && 'nodes' in attribute && 'toGraphProto' in attribute) {
        const body = attribute as GraphBuilder;
        for (const name of checkInto(body, defined, false, problems)) used.add(name);
        const carried = node.inputs.length - 2;
        const expectedOutputs = 1 + carried;
        if (body.inputs.length !== 2 + carried) problems.push(`Loop ${node.name}: body "${body.name}" has ${body.inputs.length} inputs, expected ${2 + carried}`);
        if (body.outputs.length < expectedOutputs) problems.push(`Loop ${node.name}: body "${body.name}" has ${body.outputs.length} outputs, expected at least ${expectedOutputs}`);
      }
    }
    for (const y of node.outputs) defined.add(y.name);
  }
  for (const out of g.outputs) if (!defined.has(out.name)) problems.push(`output "${out.name}" is not computed by any node`);
  if (unusedInputs) {
    for (const v of g.inputs) {
      if (!used.has(v.name)) problems.push(`input "${v.name}" (${g.parameters.includes(v) ? 'parameter' : 'input'}) is not read by any node; remove it or use it`);
    }
  }
  // Report names read from enclosing graphs so a Loop's capture counts as a use there.
  return used;
}
