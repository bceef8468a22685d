// Per-point 0/1 outcomes as compact text: a bitset (point i is bit i % 8 of byte i / 8) in
// base64, so a model's result keeps every outcome at n/6 characters per attack and epsilon.

export function encodeBits(flags: ArrayLike<number>): string {
  const bytes = new Uint8Array(Math.ceil(flags.length / 8));
  for (let i = 0; i < flags.length; i++) if (flags[i]) bytes[i >> 3]! |= 1 << (i & 7);
  return Buffer.from(bytes).toString('base64');
}

/** The n flags of `encodeBits`; refuses text that does not hold exactly n points. */
export function decodeBits(text: string, n: number): Uint8Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== Math.ceil(n / 8)) throw new Error(`Per-point outcomes hold ${bytes.length * 8} bits, expected ${n} test points.`);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (bytes[i >> 3]! >> (i & 7)) & 1;
  return out;
}
