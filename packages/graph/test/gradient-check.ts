/**
 * Central finite-difference check of `gradients` for a function built with ops.
 *
 * The scalar checked is L = Σ seed ⊙ f(inputs) with a random seed fed as the upstream gradient, so
 * every element of the Jacobian-vector product matters (a uniform seed would hide some bugs).
 */
import { gradients } from '../src/autodiff.js';
import { GraphBuilder } from '../src/graph-builder.js';
import { Session } from '../src/session.js';
import type { DType, Dim, HostTensor, Value } from '../src/value.js';
import { hostTensor } from '../src/value.js';
import { randomArray } from './reference.js';

export interface CheckInput {
  name: string;
  dims: number[];
  /** Shape declared in the graph (defaults to dims); may hold symbolic names. */
  shape?: Dim[];
  data: number[];
  /** Not differentiated (e.g. indices); fed as-is. */
  dtype?: DType;
  constant?: boolean;
}

export interface CheckOptions {
  dtype?: 'float32' | 'float64';
  epsilon?: number;
  tolerance?: number;
}

function typed(dtype: DType, dims: number[], data: number[]): HostTensor {
  return hostTensor(dtype, dims, data);
}

/** Returns the worst relative error; throws when it exceeds the tolerance. */
export async function checkGradients(inputs: CheckInput[], build: (x: Value[]) => Value, options: CheckOptions = {}): Promise<number> {
  const dtype = options.dtype ?? 'float64';
  const epsilon = options.epsilon ?? (dtype === 'float64' ? 1e-6 : 1e-2);
  const tolerance = options.tolerance ?? (dtype === 'float64' ? 1e-6 : 2e-3);
  const g = new GraphBuilder('gradient_check');
  const values = inputs.map((i) => g.input(i.name, i.dtype ?? dtype, i.shape ?? i.dims));
  const y = build(values);
  g.output(y, 'y');
  // First run: the output's run-time dims, to make a seed of that shape.
  const feeds: Record<string, HostTensor> = {};
  inputs.forEach((i) => (feeds[i.name] = typed(i.dtype ?? dtype, i.dims, i.data)));
  const probeSession = await Session.create(g.toModel());
  const probe = (await probeSession.run(feeds)).y as HostTensor;
  await probeSession.release();
  const seedData = randomArray(probe.data.length, 99, 0.5, 1.5);
  const seed = g.input('seed', dtype, y.shape);
  const wrt = values.filter((_, k) => !inputs[k]?.constant);
  const grads = gradients(y, wrt, seed);
  grads.forEach((d, k) => g.output(d, `d_${wrt[k]?.name}`));
  const session = await Session.create(g.toModel());
  try {
    feeds.seed = typed(dtype, [...probe.dims], seedData);
    const analytic = await session.run(feeds);
    const loss = async (f: Record<string, HostTensor>) => {
      const out = (await session.run(f, ['y'])).y as HostTensor;
      let s = 0;
      for (let i = 0; i < seedData.length; i++) s += (seedData[i] as number) * Number(out.data[i]);
      return s;
    };
    let worst = 0;
    for (const [k, input] of inputs.entries()) {
      if (input.constant) continue;
      const d = analytic[`d_${input.name}`] as HostTensor;
      expect(d.dims).toEqual(input.dims);
      for (let e = 0; e < input.data.length; e++) {
        const plus = [...input.data];
        const minus = [...input.data];
        plus[e] = (plus[e] as number) + epsilon;
        minus[e] = (minus[e] as number) - epsilon;
        const fd = ((await loss({ ...feeds, [input.name]: typed(dtype, input.dims, plus) })) - (await loss({ ...feeds, [input.name]: typed(dtype, input.dims, minus) }))) / (2 * epsilon);
        const got = Number(d.data[e]);
        const err = Math.abs(got - fd) / Math.max(1, Math.abs(fd));
        if (!(err <= tolerance)) {
          throw new Error(`d/d${input.name}[${e}] (input ${k}): autodiff ${got}, finite difference ${fd}, relative error ${err} > ${tolerance}`);
        }
        worst = Math.max(worst, err);
      }
    }
    return worst;
  } finally {
    await session.release();
  }
}

/** A random check input. */
export function rand(name: string, dims: number[], seed: number, low = -1, high = 1, shape?: Dim[]): CheckInput {
  const size = dims.reduce((a, b) => a * b, 1);
  return { name, dims, data: randomArray(size, seed, low, high), ...(shape ? { shape } : {}) };
}
