// Per-point losses that gradient attacks maximise, from logits. Cross-entropy saturates (its
// gradient vanishes when logits are scaled up); the margin (CW) and DLR losses do not, and DLR
// is also invariant to shifting and scaling the logits (Croce & Hein 2020).
import { tf } from '../src/tf.js';
import { AttackError, type LossFn } from './types.js';

export const LOSS_NAMES = ['ce', 'cw', 'dlr'] as const;
export type LossName = (typeof LOSS_NAMES)[number];

/** Pushes the label's column far down so max/topk pick among the other classes. */
const BIG = 1e30;

function trueLogit(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.sum(tf.mul(logits, tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1])), 1) as tf.Tensor1D;
}

function bestOther(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.max(tf.sub(logits, tf.mul(tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]), BIG)), 1) as tf.Tensor1D;
}

/** Cross-entropy: log-sum-exp minus the true logit. */
export const crossEntropy: LossFn = (z, y) => tf.tidy(() => tf.sub(tf.logSumExp(z, 1), trueLogit(z, y)) as tf.Tensor1D);

/** Carlini-Wagner margin on logits: best other logit minus the true logit (> 0 = fooled). */
export const cwMargin: LossFn = (z, y) => tf.tidy(() => tf.sub(bestOther(z, y), trueLogit(z, y)) as tf.Tensor1D);

/**
 * The j-th largest logit per point, for each j in `ranks` (0 = largest). TF.js has no gradient
 * for topk, so the ranks come from repeated argMax (gradient zero) with the found classes
 * pushed down, and the values are picked out of z (the gradient flows through them).
 */
function rankedLogits(z: tf.Tensor2D, ranks: number[]): tf.Tensor1D[] {
  const k = Math.max(...ranks) + 1;
  if (z.shape[1] < k) throw new AttackError(`This loss needs at least ${k} classes; the model has ${z.shape[1]}.`);
  const picked: tf.Tensor1D[] = [];
  let rest: tf.Tensor2D = z;
  for (let j = 0; j < k; j++) {
    const idx = tf.argMax(rest, 1) as tf.Tensor1D;
    picked.push(trueLogit(z, idx));
    rest = tf.sub(rest, tf.mul(tf.oneHot(idx, z.shape[1]), BIG));
  }
  return ranks.map((j) => picked[j]!);
}

/** DLR: -(z_y - max_{i != y} z_i) / (z_pi1 - z_pi3 + 1e-12), pi the logits sorted descending. */
export const dlr: LossFn = (z, y) =>
  tf.tidy(() => {
    const [z1, z3] = rankedLogits(z, [0, 2]);
    return tf.div(tf.sub(bestOther(z, y), trueLogit(z, y)), tf.add(tf.sub(z1!, z3!), 1e-12)) as tf.Tensor1D;
  });

/** Targeted DLR: -(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2 + 1e-12), t the target class per point. */
export function dlrTargeted(targets: tf.Tensor1D): LossFn {
  return (z, y) =>
    tf.tidy(() => {
      const [z1, z3, z4] = rankedLogits(z, [0, 2, 3]);
      const scale = tf.add(tf.sub(z1!, tf.mul(tf.add(z3!, z4!), 0.5)), 1e-12);
      return tf.div(tf.sub(trueLogit(z, targets), trueLogit(z, y)), scale) as tf.Tensor1D;
    });
}

/** Logit of the true class minus the target's (FAB's decision function; < 0 = target wins). */
export function targetMargin(targets: tf.Tensor1D): LossFn {
  return (z, y) => tf.tidy(() => tf.sub(trueLogit(z, y), trueLogit(z, targets)) as tf.Tensor1D);
}

export function lossByName(name: string): LossFn {
  switch (name) {
    case 'ce':
      return crossEntropy;
    case 'cw':
      return cwMargin;
    case 'dlr':
      return dlr;
    default:
      throw new AttackError(`Unknown loss '${name}'. Valid losses: ${LOSS_NAMES.join(', ')}.`);
  }
}
