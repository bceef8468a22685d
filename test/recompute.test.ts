// Gradient by recomputation (issue 10): the decoupled operator's gradient is unchanged, and a
// training gradient no longer keeps its full-size intermediates (which took decoupled cnn9 and
// resnet32 at batch 128 past the wasm backend's 4 GiB heap).
import { describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import { combineParts, decoupledConv2d, decoupledParts } from '../src/ops/decoupled.js';
import { resolveOptions } from '../src/ops/options.js';
import { withRecomputedGradient } from '../src/ops/recompute.js';
import { DecoupledConv2D } from '../src/layers/decoupled-conv2d.js';
import { onBackend, relativeDifference } from '../src/eval/cross-backend.js';
import { seededUniform } from './helpers/reference.js';

const OPTIONS = { magnitude: 'seg', angular: 'sigmoid', weighting: 'nonlinear-b' } as const;
const X_SHAPE: [number, number, number, number] = [4, 16, 16, 16];
const W_SHAPE: [number, number, number, number] = [3, 3, 16, 16];
/** Layers in the stack: the kept intermediates grow with it, the recomputed ones do not. */
const DEPTH = 4;

/** The operator without recomputation: every intermediate is kept for the gradient. */
function keptOperator(x: tf.Tensor4D, w: tf.Tensor4D, rho: tf.Tensor): tf.Tensor4D {
  const o = resolveOptions(OPTIONS);
  return combineParts(decoupledParts(x, w, o), o, rho);
}

/** Loss, dL/dx, dL/dw and dL/drho of sum(op(...op(x, w, rho)...) * dy), DEPTH deep, and the engine's peak bytes. */
function gradientsOf(op: (x: tf.Tensor4D, w: tf.Tensor4D, rho: tf.Tensor) => tf.Tensor4D) {
  const x = tf.tensor4d(seededUniform(X_SHAPE.reduce((a, b) => a * b), 1), X_SHAPE);
  const w = tf.tensor4d(seededUniform(W_SHAPE.reduce((a, b) => a * b), 2), W_SHAPE);
  const rho = tf.tensor1d(seededUniform(16, 3, 0.5, 2));
  const dy = tf.tensor4d(seededUniform(4 * 16 * 16 * 16, 4), [4, 16, 16, 16]);
  let grads: tf.Tensor[] = [];
  const before = tf.memory().numBytes;
  const profile = tf.profile(() => {
    grads = tf.grads((a, b, c) => {
      let y = a as tf.Tensor4D;
      for (let i = 0; i < DEPTH; i++) y = op(y, b as tf.Tensor4D, c!);
      return tf.sum(tf.mul(y, dy));
    })([x, w, rho]);
  });
  return profile.then((p) => {
    const values = grads.map((g) => g.dataSync() as Float32Array);
    tf.dispose([x, w, rho, dy, ...grads]);
    return { values, peak: (p.peakBytes - before) as number };
  });
}

describe('withRecomputedGradient', () => {
  it('gives the operator the same gradients and keeps under half the memory', async () => {
    const [kept, recomputed] = await onBackend('cpu', async () => [
      await gradientsOf(keptOperator),
      await gradientsOf((x, w, rho) => decoupledConv2d(x, w, OPTIONS, rho)),
    ]);
    // The same gradients up to the order in which the two paths into x are summed.
    recomputed.values.forEach((g, i) => expect(relativeDifference(g, kept.values[i]!)).toBeLessThan(1e-5));
    // Kept: every layer's projection, patch energy, products and their gradients, all alive
    // at once; recomputed: one layer's worth at a time, plus each layer's output.
    expect(recomputed.peak).toBeLessThan(0.5 * kept.peak);
  });

  it('leaks no tensor across training steps of a layer with learnable radius', () => {
    const layer = new DecoupledConv2D({ filters: 4, kernelSize: 3, magnitude: 'tanh', angular: 'linear', learnableRadius: true });
    const x = tf.tensor4d(seededUniform(2 * 6 * 6 * 3, 5), [2, 6, 6, 3]);
    tf.dispose(layer.apply(x) as tf.Tensor); // builds the weights
    const variables = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    const step = () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(layer.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, variables);
      tf.dispose([value, grads]);
    };
    step();
    const count = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(count);
    tf.dispose(x);
    layer.dispose();
  });

  it('refuses nothing that runs inside an outer gradient: the outer tape is restored', () => {
    const x = tf.tensor1d([0.5, -1, 2]);
    const square = (t: tf.Tensor) => withRecomputedGradient((a) => tf.mul(a, a), [t]);
    // d/dx sum((x^2)^2 * 3) = 12 x^3, through a recomputed square inside another.
    const g = tf.grad((t) => tf.sum(tf.mul(square(square(t)), 3)))(x);
    expect(Array.from(g.dataSync())).toEqual([12 * 0.125, -12, 96]);
    tf.dispose([x, g]);
  });
});

describe('withRecomputedGradient frees early only what is its own', () => {
  it("leaves a caller's dy and inputs usable, and frees its saved inputs and output gradients", () => {
    const x = tf.tensor1d([0.5, -1, 2]);
    const dy = tf.tensor1d([1, 2, 3]);
    const cube = (t: tf.Tensor) => withRecomputedGradient((a) => tf.mul(tf.mul(a, a), a), [t]);
    // The op's output is the gradient's y: TF.js hands the caller's dy straight to the op.
    const [g] = tf.grads((t) => cube(t))([x], dy);
    expect(Array.from(g!.dataSync())).toEqual([3 * 0.25 * 1, 3 * 1 * 2, 3 * 4 * 3]);
    expect(Array.from(dy.dataSync())).toEqual([1, 2, 3]);
    const count = tf.memory().numTensors;
    tf.dispose(tf.grads((t) => tf.sum(cube(cube(t))))([x]));
    expect(tf.memory().numTensors).toBe(count);
    tf.dispose([x, dy, g!]);
  });
});
