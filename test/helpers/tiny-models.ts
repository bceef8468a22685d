// Tiny models with hand-set weights, so attack tests need no training (and run on wasm).
import { tf } from '../../src/tf.js';
import type { LogitsFn } from '../../attacks/index.js';
import { seededUniform } from './reference.js';

export interface LinearModel {
  logits: LogitsFn;
  /** Weights [H*W*C, K] and bias [K], as JS arrays, for hand-computed expectations. */
  w: Float32Array;
  b: Float32Array;
  shape: [number, number, number];
  numClasses: number;
  dispose(): void;
}

/** logits = flatten(x) W + b, with seeded weights. */
export function linearModel(shape: [number, number, number], numClasses: number, seed = 1, scale = 1): LinearModel {
  const d = shape[0] * shape[1] * shape[2];
  const w = seededUniform(d * numClasses, seed, -scale, scale);
  const b = seededUniform(numClasses, seed + 1, -0.1, 0.1);
  const wt = tf.keep(tf.tensor2d(w, [d, numClasses]));
  const bt = tf.keep(tf.tensor1d(b));
  return {
    logits: (x) => tf.tidy(() => tf.add(tf.matMul(tf.reshape(x, [x.shape[0], d]), wt), bt) as tf.Tensor2D),
    w,
    b,
    shape,
    numClasses,
    dispose: () => tf.dispose([wt, bt]),
  };
}

/** Seeded inputs in [0, 1] and the labels the model itself predicts (all clean-correct). */
export function pointsFor(model: { logits: LogitsFn; shape: [number, number, number] }, n: number, seed = 7) {
  const x = tf.tensor4d(seededUniform(n * model.shape[0] * model.shape[1] * model.shape[2], seed, 0, 1), [n, ...model.shape]);
  const labels = tf.tidy(() => tf.cast(tf.argMax(model.logits(x), 1), 'int32') as tf.Tensor1D);
  return { x, labels };
}

/** The same forward as `logits`, with a zero input gradient: a gradient-masking model. */
export function maskedGradient(logits: LogitsFn): LogitsFn {
  const f = tf.customGrad((x: tf.Tensor) => ({
    value: logits(x as tf.Tensor4D),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(x),
  }));
  return (x) => f(x) as tf.Tensor2D;
}
