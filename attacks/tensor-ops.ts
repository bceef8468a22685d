// Small tensor helpers shared by the attack base, the attacks and the evaluation engine.
import { tf } from '../src/tf.js';
import { crossEntropy, cwMargin } from './losses.js';
import type { LogitsFn, LossFn } from './types.js';

/** Projects onto the Linf ball of radius eps around x, then onto the [0, 1] bounds. */
export function projectLinf(xAdv: tf.Tensor, x: tf.Tensor4D, eps: number): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.minimum(tf.maximum(xAdv, tf.sub(x, eps)), tf.add(x, eps)), 0, 1) as tf.Tensor4D);
}

/**
 * Per point: `mask[i] ? a[i] : b[i]` for batches of any rank. Float batches are blended,
 * a m + b (1 - m) with m 0 or 1 per point, rather than tf.where: a per-point condition must be
 * broadcast to the batch's shape first, which costs the wasm backend about 7 ms on 100 28x28
 * images against 0.08 ms for the blend, and attacks select every step. Exact for finite values
 * (attack states are: images, losses, gradients of a sane model); a non-finite value on the
 * side not taken would turn the point into NaN.
 */
export function selectPoints<T extends tf.Tensor>(mask: tf.Tensor1D, a: T, b: T): T {
  return tf.tidy(() => {
    const shape = [mask.shape[0], ...a.shape.slice(1).map(() => 1)];
    if (a.dtype !== 'float32' || a.rank === 1) return tf.where(tf.broadcastTo(tf.reshape(mask, shape), a.shape), a, b) as T;
    const m = tf.reshape(tf.cast(mask, 'float32'), shape);
    return tf.add(tf.mul(a, m), tf.mul(b, tf.sub(1, m))) as T;
  });
}

/** `selectPoints` with a mask of any dtype (nonzero = take a). */
export function pickPoints<T extends tf.Tensor>(mask: tf.Tensor, a: T, b: T): T {
  return tf.tidy(() => selectPoints(tf.cast(mask, 'bool') as tf.Tensor1D, a, b));
}

/** Points whose predicted class differs from the label. */
export function misclassified(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.notEqual(tf.argMax(logits, 1), tf.cast(labels, 'int32')) as tf.Tensor1D);
}

/** True-class logit minus the best other logit; negative when the point is fooled. */
export function marginOf(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.neg(cwMargin(logits, labels)) as tf.Tensor1D);
}

/**
 * Input gradient of the summed per-point loss (cross-entropy unless given), the per-point loss
 * values and which points the model already gets wrong at xAdv, all from one forward pass.
 */
export function lossGradient(
  logits: LogitsFn,
  xAdv: tf.Tensor4D,
  labels: tf.Tensor1D,
  loss: LossFn = crossEntropy,
): { grad: tf.Tensor4D; fooled: tf.Tensor1D; loss: tf.Tensor1D } {
  let kept: tf.Tensor2D | undefined;
  let values: tf.Tensor1D | undefined;
  const grad = tf.grad((xx: tf.Tensor) => {
    const z = logits(xx as tf.Tensor4D);
    // Kept past the gradient's own tidy so the early-stop mask needs no second forward.
    kept = tf.keep(z);
    values = tf.keep(loss(z, labels));
    return tf.sum(values);
  })(xAdv) as tf.Tensor4D;
  const fooled = misclassified(kept!, labels);
  // Kept tensors escape every tidy: hand back a tracked copy so the caller's tidy owns it.
  const lossValues = values!.clone();
  tf.dispose([kept!, values!]);
  return { grad, fooled, loss: lossValues };
}

/** Reads back a per-point mask computed in `f` (e.g. which points are fooled) and frees it. */
export function readMask(f: () => tf.Tensor): Uint8Array {
  const t = tf.tidy(f);
  const values = t.dataSync() as Uint8Array;
  t.dispose();
  return values;
}
