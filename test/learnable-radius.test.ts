// The magnitude functions with a tensor radius (one per output channel: the learnable radius),
// values and gradients against the formulas written out by hand in float64, with patch norms
// below, above and exactly at the radius (TF.js's Minimum sends a tie's gradient to its first
// operand, ReLU's is 0 at 0: the hand formulas follow the same convention). The tensor-radius
// route avoids broadcasting n and rho against each other (the wasm backend took minutes a step).
import { describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import { magnitudeFn } from '../src/ops/decoupled.js';
import { resolveOptions } from '../src/ops/options.js';

const P = 6;
const C = 3;
const rho = [0.5, 1, 2];
// Per pixel norms; 0.5, 1 and 2 tie with one channel's radius each.
const n = [0.25, 0.5, 1, 1.5, 2, 3];
const g = Array.from({ length: P * C }, (_, i) => ((i * 7) % 5) - 1.5);
const o = resolveOptions({ magnitude: 'seg', angular: 'cosine', alpha: 1.5, beta: 0.25 });

type Hand = { h: (n: number, r: number) => number; dn: (n: number, r: number) => number; dr: (n: number, r: number) => number };
const HAND: Record<'ball' | 'seg', Hand> = {
  // alpha * min(n / rho, 1)
  ball: {
    h: (x, r) => o.alpha * Math.min(x / r, 1),
    dn: (x, r) => (x <= r ? o.alpha / r : 0),
    dr: (x, r) => (x <= r ? (-o.alpha * x) / (r * r) : 0),
  },
  // alpha * min(n, rho) + beta * max(n - rho, 0)
  seg: {
    h: (x, r) => o.alpha * Math.min(x, r) + o.beta * Math.max(x - r, 0),
    dn: (x, r) => (x <= r ? o.alpha : o.beta),
    dr: (x, r) => (x <= r ? 0 : o.alpha - o.beta),
  },
};

describe('magnitude functions with a per-channel radius', () => {
  for (const m of ['ball', 'seg'] as const) {
    it(`${m}: values and gradients (n and rho) equal the hand formulas`, () => {
      const hand = HAND[m];
      const nT = tf.tensor4d(n, [1, 2, 3, 1]);
      const rT = tf.tensor1d(rho);
      const gT = tf.tensor4d(g, [1, 2, 3, C]);
      const value = magnitudeFn(m, nT, rT, o);
      expect(value.shape).toEqual([1, 2, 3, C]);
      const [dn, dr] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(magnitudeFn(m, a, b, o), gT)))([nT, rT]);
      const wantValue = n.flatMap((x) => rho.map((r) => hand.h(x, r)));
      const wantDn = n.map((x, p) => rho.reduce((s, r, c) => s + g[p * C + c]! * hand.dn(x, r), 0));
      const wantDr = rho.map((r, c) => n.reduce((s, x, p) => s + g[p * C + c]! * hand.dr(x, r), 0));
      const close = (got: ArrayLike<number>, want: number[]) => want.forEach((w, i) => expect(Math.abs(got[i]! - w), `${i}: ${got[i]} vs ${w}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(w))));
      close(value.dataSync(), wantValue);
      close(dn!.dataSync(), wantDn);
      expect(dr!.shape).toEqual([C]);
      close(dr!.dataSync(), wantDr);
      // Ball is bounded: never above alpha, also past the radius in float32.
      if (m === 'ball') expect(Math.max(...value.dataSync())).toBe(o.alpha);
      tf.dispose([nT, rT, gT, value, dn!, dr!]);
    });
  }

  it('a number radius gives the same values as a tensor of that radius (the fixed-radius models keep their route)', () => {
    for (const m of ['ball', 'seg'] as const) {
      const nT = tf.tensor4d(n, [1, 2, 3, 1]);
      const fixed = magnitudeFn(m, nT, 1, o).dataSync();
      const asTensor = magnitudeFn(m, nT, tf.tensor1d([1]), o).dataSync();
      expect([...asTensor]).toEqual([...fixed]);
    }
  });
});
