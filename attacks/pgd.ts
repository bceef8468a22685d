// PGD (Madry et al. 2018): BIM from a uniform random start, best of several restarts.
import { tf } from '../src/tf.js';
import { iterationParams, lossParam } from './params.js';
import { signStep } from './sign-step.js';
import type { AttackDefinition } from './types.js';

export const pgd: AttackDefinition = {
  name: 'pgd',
  norm: 'linf',
  needs: 'gradients',
  iterative: true,
  randomized: true,
  description: 'Projected Gradient Descent: BIM from a uniform random start in the ball; per point, any restart that fools is kept',
  // foolbox 3's LinfPGD defaults: 40 steps of 0.01/0.3 * eps, random start.
  params: {
    ...iterationParams(40, 0.01 / 0.3),
    ...lossParam(),
    restarts: { type: 'int', default: 1, min: 1, max: 1000, help: 'number of random starts' },
    randomStart: { type: 'boolean', default: true, help: 'start at a uniform random point in the ball (false: BIM)' },
  },
  run(ctx) {
    const steps = ctx.params.steps as number;
    const step = signStep(ctx.stepSize());
    let best: tf.Tensor4D | undefined;
    for (let r = 0; r < (ctx.params.restarts as number); r++) {
      const start = ctx.params.randomStart ? ctx.randomStart() : ctx.x.clone();
      const candidate = ctx.iterate(start, steps, step);
      start.dispose();
      if (!best) {
        best = candidate;
        continue;
      }
      const merged = ctx.keepFooling(best, candidate);
      tf.dispose([best, candidate]);
      best = merged;
    }
    return best!;
  },
};
