// Forward values of every operator against the independent loop reference.
import { describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import { decoupledConv2d } from '../src/ops/decoupled.js';
import { ANGULARS, BOUNDED_MAGNITUDES, MAGNITUDES, WEIGHTINGS } from '../src/ops/options.js';
import { maxAbsDiff, referenceConv, seededUniform } from './helpers/reference.js';

const X_SHAPE: [number, number, number, number] = [2, 7, 5, 3];
const W_SHAPE: [number, number, number, number] = [3, 3, 3, 4];
const GEOMETRIES = [
  { stride: 1, padding: 'same' as const },
  { stride: 2, padding: 'same' as const },
  { stride: 1, padding: 'valid' as const },
  { stride: 2, padding: 'valid' as const },
];
// Radius 0.8 puts patch norms on both sides of it (ball and seg change formula there).
const PARAMS = { radius: 0.8, alpha: 1, beta: 0.5, k: 0.3 };

function inputs(seed: number) {
  const x = seededUniform(X_SHAPE.reduce((a, b) => a * b), seed, -0.6, 0.6);
  const w = seededUniform(W_SHAPE.reduce((a, b) => a * b), seed + 1, -0.5, 0.5);
  // A zero patch region and a patch parallel to a filter exercise the edge cases.
  return { x, w };
}

function check(magnitude: string, angular: string, weighting: string, seed: number) {
  const { x, w } = inputs(seed);
  for (const { stride, padding } of GEOMETRIES) {
    const ref = referenceConv(
      { data: x, shape: X_SHAPE },
      { data: w, shape: W_SHAPE },
      { magnitude, angular, weighting, stride, padding, ...PARAMS },
    );
    const got = tf.tidy(() =>
      decoupledConv2d(tf.tensor4d(x, X_SHAPE), tf.tensor4d(w, W_SHAPE), {
        magnitude: magnitude as never,
        angular: angular as never,
        weighting: weighting as never,
        strides: stride,
        padding,
        ...PARAMS,
      }),
    );
    expect(got.shape).toEqual(ref.shape);
    const err = maxAbsDiff(got.dataSync(), ref.data);
    got.dispose();
    expect(err, `${magnitude}-${angular} w=${weighting} stride ${stride} ${padding}`).toBeLessThan(1e-4);
  }
}

describe('decoupled operators match the loop reference', () => {
  let seed = 10;
  for (const weighting of WEIGHTINGS) {
    for (const magnitude of MAGNITUDES) {
      for (const angular of ANGULARS) {
        const s = seed++;
        it(`${magnitude}-${angular}, weighting ${weighting}`, () => check(magnitude, angular, weighting, s));
      }
    }
  }
  it('standard equals the reference inner product and tf.conv2d', () => {
    check('standard', 'cosine', 'none', 3);
    const { x, w } = inputs(4);
    for (const { stride, padding } of GEOMETRIES) {
      const a = tf.conv2d(tf.tensor4d(x, X_SHAPE), tf.tensor4d(w, W_SHAPE), stride, padding);
      const b = decoupledConv2d(tf.tensor4d(x, X_SHAPE), tf.tensor4d(w, W_SHAPE), {
        magnitude: 'standard',
        strides: stride,
        padding,
      });
      expect(maxAbsDiff(a.dataSync(), b.dataSync())).toBe(0);
    }
  });
});

describe('bounded magnitudes never exceed alpha', () => {
  for (const magnitude of BOUNDED_MAGNITUDES) {
    for (const angular of ANGULARS) {
      it(`${magnitude}-${angular}`, () => {
        const alpha = 0.7;
        // Large inputs (norms far above the radius) are where unbounded operators would grow.
        const x = tf.mul(tf.tensor4d(seededUniform(2 * 9 * 9 * 3, 7, -50, 50), [2, 9, 9, 3]), 1);
        const w = tf.tensor4d(seededUniform(27 * 5, 8), [3, 3, 3, 5]);
        const y = decoupledConv2d(x as never, w, { magnitude, angular, alpha });
        const maxAbs = tf.max(tf.abs(y)).dataSync()[0]!;
        expect(maxAbs).toBeLessThanOrEqual(alpha + 1e-6);
        expect(maxAbs).toBeGreaterThan(0.3 * alpha);
      });
    }
  }
});
