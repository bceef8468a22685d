// The three steps the performance benchmark times, on one fixed batch: a training step
// (custom loop, softmax cross-entropy, plain SGD), a forward pass in inference mode,
// and the input gradient of one FGSM step in inference mode.
import { tf } from '../tf.js';
import type { Tensor } from '../tf.js';

export const STEP_KINDS = ['train', 'forward', 'inputGradient'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

/**
 * Learning rate of the training step (the PyTorch anchor uses the same). Plain SGD: TF.js
 * 4.22's MomentumOptimizer.dispose() leaves its learning-rate scalar behind.
 */
export const SGD_LEARNING_RATE = 0.05;
/** FGSM's epsilon in [0, 1] pixel space. */
export const FGSM_EPSILON = 8 / 255;

export interface Batch {
  /** Images in [0, 1], [N, ...inputShape]. */
  x: Tensor;
  /** One-hot labels [N, classes]. */
  y: Tensor;
}

/** A step's function: runs once; returns a small tensor to read back (forces completion). */
export type Step = () => Tensor;

function loss(model: tf.LayersModel, x: Tensor, y: Tensor, training: boolean): tf.Scalar {
  const logits = model.apply(x, { training }) as Tensor;
  return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
}

/** A seeded random batch: pixels uniform in [0, 1], labels uniform over the classes. */
export function randomBatch(
  batch: number,
  inputShape: readonly number[],
  classes: number,
  seed: number,
): Batch {
  return tf.tidy(() => {
    const x = tf.randomUniform([batch, ...inputShape], 0, 1, 'float32', seed);
    const labels = tf.randomUniform([batch], 0, classes, 'int32', seed + 1);
    return { x, y: tf.oneHot(labels, classes).toFloat() };
  });
}

/** Builds the step function of `kind`; `dispose()` frees what it created (optimizer state). */
export function makeStep(
  kind: StepKind,
  model: tf.LayersModel,
  batch: Batch,
): { step: Step; dispose: () => void } {
  switch (kind) {
    case 'train': {
      const optimizer = tf.train.sgd(SGD_LEARNING_RATE);
      const step: Step = () => optimizer.minimize(() => loss(model, batch.x, batch.y, true), true)!;
      return { step, dispose: () => optimizer.dispose() };
    }
    case 'forward': {
      const step: Step = () => tf.tidy(() => tf.sum(model.apply(batch.x, { training: false }) as Tensor));
      return { step, dispose: () => {} };
    }
    case 'inputGradient': {
      const gradient = tf.grad((x: Tensor) => loss(model, x, batch.y, false));
      const step: Step = () =>
        tf.tidy(() => {
          const adversarial = tf.clipByValue(
            tf.add(batch.x, tf.mul(tf.sign(gradient(batch.x)), FGSM_EPSILON)),
            0,
            1,
          );
          return tf.sum(adversarial);
        });
      return { step, dispose: () => {} };
    }
  }
}
