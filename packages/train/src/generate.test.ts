import { generate, nextTokenDistribution, pickToken, type NextTokenModel } from './generate.js';
import { Random } from './random.js';

/** The nucleus the obvious way: sort every token id by (probability desc, id asc), cut, renormalize. */
function referenceNucleus(probabilities: Float64Array, topP: number): Float64Array {
  const n = probabilities.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => probabilities[b]! - probabilities[a]! || a - b);
  let kept = 0;
  let cut = n;
  for (let rank = 0; rank < n; rank++) {
    kept += probabilities[order[rank]!]!;
    if (kept >= topP) { cut = rank + 1; break; }
  }
  const out = new Float64Array(n);
  for (let rank = 0; rank < cut; rank++) out[order[rank]!] = probabilities[order[rank]!]! / kept;
  return out;
}

/** A model whose logits depend on the last id only: logits[j] = table[last][j]. Records what it was shown. */
function tableModel(table: number[][], contextLength = 4): NextTokenModel & { seen: number[][] } {
  const seen: number[][] = [];
  return {
    contextLength,
    vocabSize: table.length,
    seen,
    async nextTokenLogits(ids) {
      seen.push([...ids]);
      return Float32Array.from(table[ids[ids.length - 1]!]!);
    },
  };
}

describe('nextTokenDistribution', () => {
  it('is softmax(logits / T) and keeps the smallest top-p nucleus', () => {
    const logits = [2, 1, 0, -1];
    const T = 0.7;
    const reference = logits.map((l) => Math.exp(l / T));
    const z = reference.reduce((a, b) => a + b);
    const p = reference.map((x) => x / z);
    const full = nextTokenDistribution(logits, T, 1);
    p.forEach((pi, i) => expect(full[i]).toBeCloseTo(pi, 12));
    // p ≈ [0.74, 0.18, 0.045, 0.011]: top-p 0.9 needs the first two tokens.
    const nucleus = nextTokenDistribution(logits, T, 0.9);
    expect(nucleus[0]).toBeCloseTo(p[0]! / (p[0]! + p[1]!), 12);
    expect(nucleus[1]).toBeCloseTo(p[1]! / (p[0]! + p[1]!), 12);
    expect([nucleus[2], nucleus[3]]).toEqual([0, 0]);
    expect(Array.from(nextTokenDistribution(logits, 0, 1))).toEqual([1, 0, 0, 0]);
  });

  it('keeps exactly the nucleus of a full sort, ties by id, on peaked, flat and tied distributions', () => {
    const random = Random.seeded(11);
    for (let trial = 0; trial < 300; trial++) {
      const n = [1, 2, 5, 50, 1000, 10_000][trial % 6]!;
      const spread = [0.01, 1, 5, 30][Math.floor(trial / 36) % 4]!;
      // Rounded logits make ties common; a few trials put all the mass on one token.
      const logits = Array.from({ length: n }, () => Math.round((random.nextFloat() - 0.5) * spread * 4) / 4);
      const temperature = [0.3, 0.8, 1, 2][trial % 4]!;
      const topP = [0.01, 0.5, 0.9, 0.95, 0.999, 1 - 1e-12][Math.floor(trial / 6) % 6]!;
      const softmax = nextTokenDistribution(logits, temperature, 1);
      expect(nextTokenDistribution(logits, temperature, topP)).toEqual(referenceNucleus(softmax, topP));
    }
  });
});

describe('generate', () => {
  it('greedy decoding follows the argmax chain and stops at the stop token', async () => {
    const table = [[0, 5, 0, 0], [0, 0, 5, 0], [0, 0, 0, 5], [5, 0, 0, 0]]; // i → i+1 mod 4
    const ids = await generate(tableModel(table), [0], { maxNewTokens: 10, temperature: 0, stopToken: 3 });
    expect(ids).toEqual([1, 2, 3]);
  });

  it('crops the input to the context length', async () => {
    const model = tableModel([[1, 0], [0, 1]], 3);
    await generate(model, [0, 1, 0, 1, 0], { maxNewTokens: 2, temperature: 0 });
    expect(model.seen).toEqual([[0, 1, 0], [1, 0, 0]]);
  });

  it('samples with the frequencies of the distribution, reproducibly per seed', async () => {
    const logits = [Math.log(0.5), Math.log(0.3), Math.log(0.2)];
    const model = tableModel([logits, logits, logits]);
    const ids = await generate(model, [0], { maxNewTokens: 20_000, temperature: 1, seed: 5 });
    const counts = [0, 1, 2].map((k) => ids.filter((id) => id === k).length / ids.length);
    expect(counts[0]).toBeCloseTo(0.5, 1);
    expect(counts[1]).toBeCloseTo(0.3, 1);
    expect(counts[2]).toBeCloseTo(0.2, 1);
    expect(await generate(model, [0], { maxNewTokens: 50, seed: 5 })).toEqual(ids.slice(0, 50));
  });

  it('decode \'loop\' hands chunks to continueInRuntime with the uniforms the host steps would draw', async () => {
    // A model that continues on the host from the table (as the runtime must: nextTokenDistribution, then
    // pickToken with the uniform given), and declines whenever the window has an odd length, so loop chunks
    // and host steps interleave; the ids must be the step mode's for each seed.
    const random = Random.seeded(2);
    const table = Array.from({ length: 6 }, () => Array.from({ length: 6 }, () => (random.nextFloat() - 0.5) * 4));
    const calls: number[] = [];
    const model: NextTokenModel = {
      ...tableModel(table, 9),
      async continueInRuntime(ids, uniforms, sampling) {
        if (ids.length % 2 === 1) return undefined;
        calls.push(ids.length - 1 + uniforms.length); // the last position the chunk fills
        const out: number[] = [];
        let last = ids[ids.length - 1]!;
        for (const u of uniforms) {
          last = pickToken(nextTokenDistribution(table[last]!, sampling.temperature, sampling.topP), u);
          out.push(last);
          if (last === sampling.stopToken) break;
        }
        return out;
      },
    };
    for (const options of [{ temperature: 1, seed: 1 }, { temperature: 0.7, topP: 0.8, seed: 2 }, { temperature: 1.5, seed: 3, stopToken: 4 }]) {
      const step = await generate(model, [0], { maxNewTokens: 30, decode: 'step', ...options });
      calls.length = 0;
      const streamed: number[] = [];
      const loop = await generate(model, [0], { maxNewTokens: 30, decode: 'loop', decodeChunk: 3, onToken: (id) => streamed.push(id), ...options });
      expect(loop).toEqual(step);
      expect(streamed).toEqual(loop);
      expect(calls.length).toBeGreaterThan(0);
      // Chunks never run past the context of 9: ids.length − 1 + uniforms ≤ 9.
      expect(Math.max(...calls)).toBeLessThanOrEqual(9);
    }
    // A model that breaks the contract is caught.
    const broken: NextTokenModel = { ...tableModel(table), continueInRuntime: async () => [] };
    await expect(generate(broken, [0], { maxNewTokens: 5 })).rejects.toThrow(/continueInRuntime returned 0 ids for 4 uniforms without ending at the stop token/);
  });

  it('rejects bad prompts and options', async () => {
    const model = tableModel([[0, 0]]);
    await expect(generate(model, [], {})).rejects.toThrow(/prompt is empty/);
    await expect(generate(model, [7], {})).rejects.toThrow(/prompt id 7 is outside the vocabulary \[0, 1\)/);
    await expect(generate(model, [0], { topP: 0 })).rejects.toThrow(/topP must be in \(0, 1\]/);
    await expect(generate(model, [0], { decodeChunk: 0 })).rejects.toThrow(/decodeChunk must be a positive integer, got 0/);
    await expect(generate(model, [0], { decode: 'loops' as 'loop' })).rejects.toThrow(/decode/);
  });
});
