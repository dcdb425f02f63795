import { GraphBuilder, hostTensor, mul, runGraph } from '@cs336/graph';
import { pack, planPacking, unpack } from './packed-state.js';

describe('packed optimizer state', () => {
  it('packs only the tensors at or under the limit, and only when there are two or more', () => {
    expect(planPacking([[4, 4], [2], [3, 3], [2, 2]], 9)).toEqual({ separate: [0], packed: [1, 2, 3], shapes: [[4, 4], [2], [3, 3], [2, 2]] });
    expect(planPacking([[4, 4], [2]], 9).packed).toEqual([]);
  });

  it('unpack(pack(x)) gives back every tensor, in spec order, through ORT', async () => {
    const shapes = [[2, 3], [5, 5], [4], [3, 2]];
    const plan = planPacking(shapes, 6);
    const g = new GraphBuilder('pack');
    const inputs = shapes.map((shape, i) => g.input(`x${i}`, 'float32', shape));
    const packed = pack(plan, inputs);
    expect(packed).toHaveLength(2); // [5, 5] alone, then one flat vector of 6 + 4 + 6
    expect(packed[1]!.shape).toEqual([16]);
    unpack(plan, packed.map((v) => mul(v, 2))).forEach((v, i) => g.output(v, `y${i}`));
    const feeds = Object.fromEntries(shapes.map((shape, i) => {
      const n = shape.reduce((p, d) => p * d, 1);
      return [`x${i}`, hostTensor('float32', shape, Array.from({ length: n }, (_, j) => 100 * i + j))];
    }));
    const out = await runGraph(g, feeds);
    shapes.forEach((shape, i) => {
      expect(out[`y${i}`]!.dims).toEqual(shape);
      expect(Array.from(out[`y${i}`]!.data as Float32Array)).toEqual(Array.from(feeds[`x${i}`]!.data as Float32Array, (x) => 2 * x));
    });
  });
});
