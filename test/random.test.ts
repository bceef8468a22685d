// The one seeded generator (mulberry32) against an independent BigInt implementation of the
// published algorithm, and the attacks' seed stream drawn from it.
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../src/random.js';
import { createContext } from '../attacks/context.js';
import { tf } from '../src/tf.js';

const M32 = (1n << 32n) - 1n;
const mul = (a: bigint, b: bigint) => (a * b) & M32;

/** mulberry32 in BigInt arithmetic (no Math.imul, no >>> tricks): uniforms in [0, 1). */
function reference(seed: number, count: number): number[] {
  let state = BigInt(seed >>> 0);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5n) & M32;
    let t = state;
    t = mul(t ^ (t >> 15n), t | 1n);
    t = t ^ ((t + mul(t ^ (t >> 7n), t | 61n)) & M32);
    out.push(Number(t ^ (t >> 14n)) / 2 ** 32);
  }
  return out;
}

describe('SeededRandom', () => {
  it('is mulberry32: the same stream as an independent implementation', () => {
    for (const seed of [0, 1, 42, 0x5eed, 0xffffffff]) {
      const rng = new SeededRandom(seed);
      expect(Array.from({ length: 500 }, () => rng.next())).toEqual(reference(seed, 500));
    }
  });

  it('int, seed and permutation are drawn from that stream; state round-trips', () => {
    const r = reference(7, 4);
    const rng = new SeededRandom(7);
    expect([rng.int(10), rng.seed(), rng.int(3)]).toEqual([Math.floor(r[0]! * 10), Math.floor(r[1]! * 2 ** 31), Math.floor(r[2]! * 3)]);
    const state = rng.getState();
    const a = rng.next();
    rng.setState(state);
    expect(rng.next()).toBe(a);
    expect(a).toBe(r[3]);
    expect([...new SeededRandom(3).permutation(6)].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("the attacks' seeds (random starts, noise, Square) come from it, offset from the run's seed", () => {
    const x = tf.zeros([1, 1, 1, 1]) as tf.Tensor4D;
    const y = tf.zeros([1], 'int32') as tf.Tensor1D;
    const ctx = createContext((t) => tf.reshape(t, [1, 1]) as tf.Tensor2D, x, y, 0.1, {}, 11);
    const expected = reference(11 ^ 0x5bd1e995, 3).map((u) => Math.floor(u * 2 ** 31));
    expect([ctx.nextSeed(), ctx.nextSeed(), ctx.nextSeed()]).toEqual(expected);
    tf.dispose([x, y]);
  });
});
