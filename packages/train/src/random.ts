/**
 * A small seedable random number generator with a serializable state, so a resumed run draws
 * exactly the numbers an uninterrupted run would have drawn.
 *
 * xoshiro128** (Blackman & Vigna): four 32-bit words of state, fast with plain 32-bit integer math
 * in JavaScript (no BigInt on the hot path). Seeds are spread over the state with splitmix32 so that
 * nearby seeds (0, 1, 2...) give unrelated streams.
 */

export interface RandomState {
  readonly algorithm: 'xoshiro128**';
  readonly words: readonly [number, number, number, number];
}

function splitmix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(words: readonly number[]) {
    [this.s0, this.s1, this.s2, this.s3] = words.map((w) => w >>> 0) as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) throw new Error('Random: the all-zero state is not allowed (xoshiro would only ever return 0)');
  }

  /** A generator seeded from one or more integers, e.g. `Random.seeded(seed, step)`: the stream depends only on them. */
  static seeded(...seeds: number[]): Random {
    if (seeds.length === 0) throw new Error('Random.seeded: give at least one seed');
    let mix = 0x2545f491;
    for (const seed of seeds) {
      if (!Number.isSafeInteger(seed)) throw new Error(`Random.seeded: seed ${seed} is not a safe integer`);
      // Fold both halves of the seed so seeds above 2^32 still matter.
      const next = splitmix32(mix ^ (seed >>> 0));
      mix = next() ^ splitmix32(Math.floor(seed / 2 ** 32) >>> 0)();
    }
    const next = splitmix32(mix);
    return new Random([next(), next(), next(), next() | 1]);
  }

  static fromState(state: RandomState): Random {
    if (state.algorithm !== 'xoshiro128**' || state.words.length !== 4) {
      throw new Error(`Random.fromState: expected a xoshiro128** state of 4 words, got ${JSON.stringify(state)}`);
    }
    return new Random(state.words);
  }

  state(): RandomState {
    return { algorithm: 'xoshiro128**', words: [this.s0, this.s1, this.s2, this.s3] };
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform float in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** A uniform integer in [0, n), without modulo bias (rejection sampling over 53-bit floats is exact enough). */
  nextInt(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`Random.nextInt: n must be a positive safe integer, got ${n}`);
    if (n <= 2 ** 32) {
      // Lemire-style rejection on 32 bits: reject the low tail that would bias small residues.
      const limit = 2 ** 32 - (2 ** 32 % n);
      for (;;) {
        const x = this.nextUint32();
        if (x < limit) return x % n;
      }
    }
    return Math.floor(this.nextFloat() * n);
  }
}
