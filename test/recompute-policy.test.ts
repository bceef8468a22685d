// When DecoupledConv2D recomputes its gradient (recompute-policy.ts): within a gradient's
// budget, layers keep their intermediates (one forward pass of the operator per gradient, and
// no filter gradient in an input gradient), past it they recompute; the gradients are the same.
import { describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import { decoupledConv2d } from '../src/ops/decoupled.js';
import { KEPT_OUTPUT_BUDGET_BYTES, recomputeApplies } from '../src/ops/recompute-policy.js';
import { DecoupledConv2D } from '../src/layers/decoupled-conv2d.js';
import { onBackend, relativeDifference } from '../src/eval/cross-backend.js';
import { seededUniform } from './helpers/reference.js';

const OPTIONS = { magnitude: 'tanh', angular: 'cosine' } as const;

describe('recompute policy', () => {
  it('outside a gradient nothing recomputes; inside, layers keep until their outputs pass the budget, then all recompute', () => {
    const floats = KEPT_OUTPUT_BUDGET_BYTES / 4;
    expect(recomputeApplies([1, 2 * floats])).toBe(false); // no gradient is recorded
    const decisions: boolean[][] = [];
    const record = (shapes: number[][]) =>
      tf.grad((x: tf.Tensor) => {
        decisions.push(shapes.map((shape) => recomputeApplies(shape)));
        return tf.sum(tf.square(x));
      })(tf.scalar(1)).dispose();
    // small-cnn at batch 128: both layers keep.
    record([[128, 28, 28, 32], [128, 14, 14, 64]]);
    // Half the budget twice fits; a third passes it; after that even a tiny layer recomputes.
    record([[floats / 2], [floats / 2], [floats / 2], [1]]);
    // A first layer over the budget (cnn9's at batch 128): everything recomputes.
    record([[128, 32, 32, 128], [128, 8, 8, 256]]);
    expect(decisions).toEqual([
      [false, false],
      [false, false, true, true],
      [true, true],
    ]);
  });

  it('a small layer keeps its intermediates: the same input gradient as the recomputed operator, one operator pass fewer', async () => {
    const [kept, recomputed] = await onBackend('cpu', async () => {
      const layer = new DecoupledConv2D({ filters: 8, kernelSize: 3, padding: 'same', ...OPTIONS, seed: 5 });
      const x = tf.tensor4d(seededUniform(2 * 6 * 6 * 4, 11), [2, 6, 6, 4]);
      tf.dispose(layer.apply(x) as tf.Tensor); // builds the weights
      const w = layer.kernel.read() as tf.Tensor4D;
      const dy = tf.tensor4d(seededUniform(2 * 6 * 6 * 8, 12), [2, 6, 6, 8]);
      const inputGradient = async (op: (x: tf.Tensor4D) => tf.Tensor) => {
        let g: tf.Tensor | undefined;
        const profile = await tf.profile(() => {
          g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(op(a as tf.Tensor4D), dy)))(x);
        });
        const values = g!.dataSync().slice();
        g!.dispose();
        return { values, convolutions: profile.kernels.filter((k) => k.name === 'Conv2D').length };
      };
      const result = [
        await inputGradient((a) => layer.apply(a) as tf.Tensor),
        await inputGradient((a) => decoupledConv2d(a, w, { ...OPTIONS, padding: 'same' })),
      ];
      tf.dispose([x, dy]);
      layer.dispose();
      return result;
    });
    expect(relativeDifference(kept.values, recomputed.values)).toBeLessThan(1e-6);
    // Forward: the projection and the patch norm's box filter (2 Conv2D); recomputed: twice that.
    expect(kept.convolutions).toBe(2);
    expect(recomputed.convolutions).toBe(4);
  });
});
