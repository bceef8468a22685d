// APGD-T (Croce & Hein 2020): Auto-PGD on the targeted DLR loss, once per target class among
// the top-k classes of the clean point (2nd most likely first), each run only on the points
// no earlier target has fooled. AutoAttack's standard setting: 9 targets, 100 steps.
import { tf } from '../src/tf.js';
import { apgdParams, apgdRun, withRestarts } from './apgd-core.js';
import { dlrTargeted } from './losses.js';
import { targetsParam } from './params.js';
import type { AttackContext, AttackDefinition } from './types.js';

/** The class of rank `rank` (1 = second most likely) in the clean logits, per point. */
export function targetClasses(ctx: AttackContext, rank: number): tf.Tensor1D {
  return tf.tidy(() => {
    const z = ctx.logits(ctx.x);
    const idx = tf.topk(z, rank + 1).indices;
    return tf.squeeze(tf.slice(idx, [0, rank], [z.shape[0], 1]), [1]) as tf.Tensor1D;
  });
}

/** How many target classes the model allows (the classes other than the true one). */
export function targetCount(ctx: AttackContext): number {
  const classes = tf.tidy(() => ctx.logits(ctx.x.slice([0, 0, 0, 0], [1, ...ctx.x.shape.slice(1)] as [number, number, number, number])).shape[1]);
  return Math.min(ctx.params.targets as number, classes - 1);
}

export const apgdT: AttackDefinition = {
  name: 'apgd-t',
  norm: 'linf',
  needs: 'gradients',
  iterative: true,
  randomized: true,
  description: 'Targeted Auto-PGD (targeted DLR loss), over the top-k classes of each clean point; needs at least 4 classes',
  params: {
    ...apgdParams(),
    ...targetsParam(),
  },
  run(ctx) {
    let current = ctx.x.clone();
    for (let rank = 1; rank <= targetCount(ctx); rank++) {
      const next = ctx.remaining(current, (sub) =>
        withRestarts(sub, (run) => {
          const targets = targetClasses(run, rank);
          const adv = apgdRun(run, ([t]) => dlrTargeted(t as tf.Tensor1D), [targets]);
          targets.dispose();
          return adv;
        }),
      );
      current.dispose();
      current = next;
    }
    return current;
  },
};
