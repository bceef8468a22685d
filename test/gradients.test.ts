// Gradients of every operator: finite at the edge cases (zero patches, theta = 0 and pi)
// and equal to finite differences of the float64 loop reference.
import { describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import type { Tensor4D } from '../src/tf.js';
import { decoupledConv2d } from '../src/ops/decoupled.js';
import { ANGULARS, MAGNITUDES, WEIGHTINGS } from '../src/ops/options.js';
import { referenceConv, seededUniform, type RefOptions } from './helpers/reference.js';

const OPERATORS = [
  { magnitude: 'standard', angular: 'cosine' },
  ...MAGNITUDES.flatMap((magnitude) => ANGULARS.map((angular) => ({ magnitude, angular }))),
];

function grads(x: Tensor4D, w: Tensor4D, options: Record<string, unknown>, r: tf.Tensor) {
  const f = (xx: tf.Tensor, ww: tf.Tensor) =>
    tf.sum(tf.mul(decoupledConv2d(xx as Tensor4D, ww as Tensor4D, options as never), r));
  const [gx, gw] = tf.grads(f)([x, w]);
  return { gx: gx!, gw: gw! };
}

function allFinite(t: tf.Tensor): boolean {
  return tf.all(tf.isFinite(t)).dataSync()[0] === 1;
}

describe('gradients are finite at the edge cases', () => {
  for (const op of OPERATORS) {
    it(`${op.magnitude}-${op.angular}`, () => {
      tf.tidy(() => {
        const patch = tf.tensor4d(seededUniform(3 * 3 * 2, 5, 0.1, 1), [1, 3, 3, 2]);
        const filter = patch.reshape([3, 3, 2, 1]);
        const cases: Array<[string, Tensor4D, Tensor4D]> = [
          ['all-zero input', tf.zeros([1, 3, 3, 2]) as Tensor4D, filter as Tensor4D],
          ['parallel (theta = 0)', patch, tf.mul(filter, 2) as Tensor4D],
          ['anti-parallel (theta = pi)', patch, tf.mul(filter, -3) as Tensor4D],
          ['all-zero filter', patch, tf.zeros([3, 3, 2, 1]) as Tensor4D],
        ];
        for (const [name, x, w] of cases) {
          for (const padding of ['valid', 'same'] as const) {
            const { gx, gw } = grads(x, w, { ...op, padding }, tf.onesLike(decoupledConv2d(x, w, { ...op, padding })));
            expect(allFinite(gx), `${name} ${padding} dL/dx`).toBe(true);
            expect(allFinite(gw), `${name} ${padding} dL/dw`).toBe(true);
          }
        }
      });
    });
  }
});

/** Central finite differences of sum(ref(x, w) * r) in float64. */
function numericGrad(
  x: Float64Array,
  w: Float64Array,
  xShape: [number, number, number, number],
  wShape: [number, number, number, number],
  r: Float32Array,
  o: RefOptions,
  wrt: 'x' | 'w',
  indices: number[],
): number[] {
  const loss = (xx: Float64Array, ww: Float64Array) => {
    const y = referenceConv({ data: xx, shape: xShape }, { data: ww, shape: wShape }, o).data;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i]! * r[i]!;
    return s;
  };
  const h = 1e-6;
  return indices.map((i) => {
    const target = wrt === 'x' ? x : w;
    const saved = target[i]!;
    target[i] = saved + h;
    const up = loss(x, w);
    target[i] = saved - h;
    const down = loss(x, w);
    target[i] = saved;
    return (up - down) / (2 * h);
  });
}

describe('gradients match finite differences of the reference', () => {
  const xShape: [number, number, number, number] = [2, 5, 4, 2];
  const wShape: [number, number, number, number] = [3, 3, 2, 3];
  let seed = 100;
  for (const weighting of WEIGHTINGS) {
    for (const op of OPERATORS) {
      if (op.magnitude === 'standard' && weighting !== 'none') continue;
      const s = seed++;
      it(`${op.magnitude}-${op.angular}, weighting ${weighting}`, () => {
        const x32 = seededUniform(xShape.reduce((a, b) => a * b), s, -1, 1);
        const w32 = seededUniform(wShape.reduce((a, b) => a * b), s + 1000, -0.6, 0.6);
        const o: RefOptions = { ...op, weighting, radius: 1.3, alpha: 1, beta: 0.5, k: 0.5, stride: 2, padding: 'same' };
        const outShape = referenceConv({ data: x32, shape: xShape }, { data: w32, shape: wShape }, o).shape;
        const r = seededUniform(outShape.reduce((a, b) => a * b), s + 2000, -1, 1);
        const { gx, gw } = tf.tidy(() =>
          grads(tf.tensor4d(x32, xShape), tf.tensor4d(w32, wShape), { ...op, weighting, radius: 1.3, k: 0.5, strides: 2, padding: 'same' }, tf.tensor(r, outShape)),
        );
        const analyticX = gx.dataSync();
        const analyticW = gw.dataSync();
        tf.dispose([gx, gw]);
        const xIdx = [0, 7, 13, 22, 31, 39];
        const wIdx = [0, 5, 17, 29, 40, 53];
        const numX = numericGrad(Float64Array.from(x32), Float64Array.from(w32), xShape, wShape, r, o, 'x', xIdx);
        const numW = numericGrad(Float64Array.from(x32), Float64Array.from(w32), xShape, wShape, r, o, 'w', wIdx);
        const scale = Math.max(1, ...numX.map(Math.abs), ...numW.map(Math.abs));
        xIdx.forEach((i, j) => expect(Math.abs(analyticX[i]! - numX[j]!) / scale, `dL/dx[${i}]`).toBeLessThan(2e-3));
        wIdx.forEach((i, j) => expect(Math.abs(analyticW[i]! - numW[j]!) / scale, `dL/dw[${i}]`).toBeLessThan(2e-3));
      });
    }
  }
});
