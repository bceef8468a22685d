// Deterministic random streams: one seed per attack run gives the same numbers every time.

/** mulberry32: a small, fast 32-bit generator; enough for picking windows and signs. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stream of derived integer seeds (for tf.random* calls) from one base seed. */
export function seedStream(seed: number): () => number {
  const next = seededRandom(seed ^ 0x5bd1e995);
  return () => Math.floor(next() * 2 ** 31);
}
