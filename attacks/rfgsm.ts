// R+FGSM (Tramer et al. 2018): a random signed step of size alpha, then an FGSM step of
// eps - alpha from there. The worked example of docs/adding-an-attack.md.
import { tf } from '../src/tf.js';
import type { AttackDefinition } from './types.js';

export const rfgsm: AttackDefinition = {
  name: 'rfgsm',
  norm: 'linf',
  needs: 'gradients',
  iterative: false,
  randomized: true,
  description: 'R+FGSM: random step alpha * sign(N(0, 1)), then FGSM with eps - alpha',
  params: {
    relAlpha: { type: 'number', default: 0.5, min: 0, max: 1, help: 'random step alpha as a fraction of epsilon' },
  },
  run(ctx) {
    const alpha = (ctx.params.relAlpha as number) * ctx.epsilon;
    return tf.tidy(() => {
      const noise = tf.sign(tf.randomNormal(ctx.x.shape, 0, 1, 'float32', ctx.nextSeed()));
      const start = ctx.project(tf.add(ctx.x, tf.mul(noise, alpha)));
      const { grad } = ctx.gradient(start);
      return ctx.project(tf.add(start, tf.mul(tf.sign(grad), ctx.epsilon - alpha)));
    });
  },
};
