// One optimisation step: optional adversarial examples (made by the toolkit's own attacks),
// softmax cross-entropy on logits, gradients, an Adam update.
import { tf } from '../../src/tf.js';
import type { Tensor, Tensor1D, Tensor2D, Tensor4D } from '../../src/tf.js';
import { logitsOf, perturb } from '../../attacks/index.js';
import { applyForTraining } from '../../src/ops/recompute-layers.js';
import type { Adam } from './adam.js';
import type { AdversarialRecipe } from './recipe.js';

/** Per-example softmax cross-entropy from logits, with optional label smoothing. */
export function crossEntropy(logits: Tensor2D, labels: Tensor1D, labelSmoothing: number): Tensor1D {
  return tf.tidy(() => {
    const k = logits.shape[1];
    let target: Tensor = tf.oneHot(tf.cast(labels, 'int32'), k);
    if (labelSmoothing > 0) target = tf.add(tf.mul(target, 1 - labelSmoothing), labelSmoothing / k);
    return tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1)) as Tensor1D;
  });
}

/**
 * The batch a step trains on. Adversarial training replaces the first `fraction` of the
 * (shuffled) batch by its adversarial version, computed on the current model in inference
 * mode (Kurakin et al. 2016 with fraction 0.5; Madry et al. 2018 with fraction 1), and gives
 * those examples the loss weight `weight`.
 */
export function trainingBatch(
  model: tf.LayersModel,
  x: Tensor4D,
  y: Tensor1D,
  adversarial: AdversarialRecipe | undefined,
  attackSeed: number,
): { x: Tensor4D; weights: Tensor1D | undefined } {
  if (!adversarial) return { x, weights: undefined };
  const n = x.shape[0];
  const k = Math.min(n, Math.max(1, Math.round(adversarial.fraction * n)));
  // Madry's PGD runs every step on every point (no early stop): training wants the loss
  // maximiser, not just the first example that fools the model.
  const params = adversarial.attack === 'pgd' ? { steps: adversarial.steps, stepSize: adversarial.stepSize, earlyStop: false } : {};
  return tf.tidy(() => {
    const head = k === n ? x : tf.slice(x, 0, k);
    const headLabels = k === n ? y : tf.slice(y, 0, k);
    const adv = perturb(adversarial.attack, logitsOf(model), head, headLabels, adversarial.epsilon, params, attackSeed);
    const mixed = k === n ? adv : tf.concat([adv, tf.slice(x, k)], 0);
    const weights = tf.concat([tf.fill([k], adversarial.weight), tf.ones([n - k])]) as Tensor1D;
    return { x: mixed as Tensor4D, weights };
  });
}

export interface StepResult {
  /** Mean (weighted) loss of the batch. */
  loss: number;
  /** Correctly classified examples of the batch as trained on (adversarial ones included). */
  correct: number;
}

/** One training step on (x, y); disposes everything it creates. */
export function trainStep(
  model: tf.LayersModel,
  variables: tf.Variable[],
  adam: Adam,
  x: Tensor4D,
  y: Tensor1D,
  options: { labelSmoothing: number; adversarial?: AdversarialRecipe; attackSeed: number },
): StepResult {
  const batch = trainingBatch(model, x, y, options.adversarial, options.attackSeed);
  let correct: Tensor | undefined;
  try {
    const { value, grads } = tf.variableGrads(() => {
      const logits = applyForTraining(model, batch.x) as Tensor2D;
      correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(y, 'int32')), 'int32')));
      const losses = crossEntropy(logits, y, options.labelSmoothing);
      return (batch.weights ? tf.div(tf.sum(tf.mul(losses, batch.weights)), tf.sum(batch.weights)) : tf.mean(losses)) as tf.Scalar;
    }, variables);
    adam.apply(variables.map((v) => grads[v.name]!));
    const loss = value.dataSync()[0]!;
    tf.dispose([value, ...Object.values(grads)]);
    return { loss, correct: correct!.dataSync()[0]! };
  } finally {
    if (correct) correct.dispose();
    if (batch.x !== x) batch.x.dispose();
    if (batch.weights) batch.weights.dispose();
  }
}
