// Small tensor helpers shared by the attack base, the attacks and the evaluation engine.
import { tf } from '../src/tf.js';
import type { LogitsFn } from './types.js';

/** Projects onto the Linf ball of radius eps around x, then onto the [0, 1] bounds. */
export function projectLinf(xAdv: tf.Tensor, x: tf.Tensor4D, eps: number): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.minimum(tf.maximum(xAdv, tf.sub(x, eps)), tf.add(x, eps)), 0, 1) as tf.Tensor4D);
}

/** Per point: `mask[i] ? a[i] : b[i]` for batches of any rank. */
export function selectPoints<T extends tf.Tensor>(mask: tf.Tensor1D, a: T, b: T): T {
  return tf.tidy(() => {
    const shape = [mask.shape[0], ...a.shape.slice(1).map(() => 1)];
    return tf.where(tf.broadcastTo(tf.reshape(mask, shape), a.shape), a, b) as T;
  });
}

/** Points whose predicted class differs from the label. */
export function misclassified(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.notEqual(tf.argMax(logits, 1), tf.cast(labels, 'int32')) as tf.Tensor1D);
}

/** True-class logit minus the best other logit; negative when the point is fooled. */
export function marginOf(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const onehot = tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]);
    const trueLogit = tf.sum(tf.mul(logits, onehot), 1);
    // Push the true class far down so max picks the best other class.
    const others = tf.max(tf.sub(logits, tf.mul(onehot, 1e30)), 1);
    return tf.sub(trueLogit, others) as tf.Tensor1D;
  });
}

/** Summed cross-entropy from logits (log-sum-exp minus the true logit). */
function crossEntropySum(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const onehot = tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]);
  return tf.sum(tf.sub(tf.logSumExp(logits, 1), tf.sum(tf.mul(logits, onehot), 1)));
}

/**
 * Input gradient of the summed cross-entropy, and which points the model already gets
 * wrong at xAdv. The logits come out of the same forward pass (no second forward).
 */
export function lossGradient(
  logits: LogitsFn,
  xAdv: tf.Tensor4D,
  labels: tf.Tensor1D,
): { grad: tf.Tensor4D; fooled: tf.Tensor1D } {
  let kept: tf.Tensor2D | undefined;
  const grad = tf.grad((xx: tf.Tensor) => {
    const z = logits(xx as tf.Tensor4D);
    // Kept past the gradient's own tidy so the early-stop mask needs no second forward.
    kept = tf.keep(z);
    return crossEntropySum(z, labels);
  })(xAdv) as tf.Tensor4D;
  const fooled = misclassified(kept!, labels);
  kept!.dispose();
  return { grad, fooled };
}
