// FGSM (Goodfellow et al. 2015): one step of eps along the sign of the input gradient.
import { tf } from '../src/tf.js';
import { lossParam } from './params.js';
import type { AttackDefinition } from './types.js';

export const fgsm: AttackDefinition = {
  name: 'fgsm',
  norm: 'linf',
  needs: 'gradients',
  iterative: false,
  randomized: false,
  description: 'Fast Gradient Sign Method: x + eps * sign(grad), clipped to [0, 1]',
  params: { ...lossParam() },
  run(ctx) {
    return tf.tidy(() => {
      const { grad, fooled } = ctx.gradient(ctx.x);
      fooled.dispose();
      return ctx.project(tf.add(ctx.x, tf.mul(tf.sign(grad), ctx.epsilon)));
    });
  },
};
