// Minimal epsilon per test point: the smallest Linf perturbation found that fools the model,
// from FAB-T run as a minimal-norm attack (at epsilon 1, the whole [0, 1] box, minimising the
// norm after each success). Clean mistakes have minimal epsilon 0; points FAB never fools
// have none (null). The accuracy-vs-epsilon curve these give must reach chance: a model that
// stays above chance with the whole box available is masking gradients (or FAB failed).
import { tf } from '../tf.js';
import { misclassified, perturb, type LogitsFn } from '../../attacks/index.js';
import type { SanityCheck } from './types.js';

export const MINIMAL_EPSILON_ATTACK = 'fab-t';

/** Per point of the batch: minimal epsilon found, 0 for clean mistakes, null if never fooled. */
export function minimalEpsilons(
  logits: LogitsFn,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  params: Record<string, unknown>,
  seed: number,
): Array<number | null> {
  const adv = perturb(MINIMAL_EPSILON_ATTACK, logits, x, labels, 1, { ...params, minimize: true }, seed);
  const [cleanWrong, fooled, size] = tf.tidy(() => [
    misclassified(logits(x), labels),
    misclassified(logits(adv), labels),
    tf.max(tf.abs(tf.reshape(tf.sub(adv, x), [x.shape[0], -1])), 1),
  ]);
  adv.dispose();
  const [w, f, d] = [cleanWrong!, fooled!, size!].map((t) => {
    const v = t.dataSync();
    t.dispose();
    return v;
  });
  return Array.from(d as Float32Array, (v, i): number | null => (w![i] ? 0 : f![i] ? v : null));
}

/** Robust accuracy at epsilon e from the minimal epsilons: points not fooled at or below e. */
export function accuracyAt(minEps: Array<number | null>, e: number): number {
  return minEps.filter((d) => d === null || d > e).length / Math.max(minEps.length, 1);
}

/** The flagged check: the accuracy-vs-epsilon curve must reach chance (1 / classes). */
export function reachesChance(minEps: Array<number | null>, numClasses: number): SanityCheck {
  const never = minEps.filter((d) => d === null).length;
  const floor = never / Math.max(minEps.length, 1);
  const chance = 1 / numClasses;
  const numbers = { 'never fooled (test points)': never, 'accuracy floor': floor, chance };
  return floor <= chance
    ? { id: 'minimal-eps-reaches-chance', status: 'passed', message: `The accuracy-vs-epsilon curve from FAB-T minimal epsilons reaches chance (${(100 * chance).toFixed(1)}%).`, numbers }
    : {
        id: 'minimal-eps-reaches-chance',
        status: 'failed',
        message:
          `The accuracy-vs-epsilon curve never reaches chance: ${never} test points stay correct with the whole [0, 1] box available ` +
          `(accuracy floor ${(100 * floor).toFixed(1)}% > chance ${(100 * chance).toFixed(1)}%): gradients mislead FAB-T (masking) or the attack budget is too small.`,
        numbers,
      };
}
