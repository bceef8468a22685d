// BIM / I-FGSM (Kurakin et al. 2016): signed-gradient steps from x, projected after each.
import { iterationParams, lossParam } from './params.js';
import { signStep } from './sign-step.js';
import type { AttackDefinition } from './types.js';

export const bim: AttackDefinition = {
  name: 'bim',
  norm: 'linf',
  needs: 'gradients',
  iterative: true,
  randomized: false,
  description: 'Basic Iterative Method: `steps` signed-gradient steps from x, projected onto the ball and [0, 1]',
  // foolbox 3's LinfBasicIterativeAttack defaults: 10 steps of 0.2 * eps.
  params: {
    ...iterationParams(10, 0.2),
    ...lossParam(),
  },
  run(ctx) {
    return ctx.iterate(ctx.x, ctx.params.steps as number, signStep(ctx.stepSize()));
  },
};
