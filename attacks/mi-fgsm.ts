// MI-FGSM (Dong et al. 2018): BIM whose direction is a momentum of L1-normalised gradients.
import { tf } from '../src/tf.js';
import { iterationParams, lossParam } from './params.js';
import type { AttackDefinition } from './types.js';

export const miFgsm: AttackDefinition = {
  name: 'mi-fgsm',
  norm: 'linf',
  needs: 'gradients',
  iterative: true,
  randomized: false,
  description: 'Momentum Iterative FGSM: g = mu * g + grad / mean|grad|; x += a * sign(g)',
  // The paper's setting: 10 steps of eps / 10, decay 1.0.
  params: {
    ...iterationParams(10, 0.1),
    ...lossParam(),
    decay: { type: 'number', default: 1.0, min: 0, max: 10, help: 'momentum decay factor mu' },
  },
  run(ctx) {
    const a = ctx.stepSize();
    const mu = ctx.params.decay as number;
    // iterate() clones the initial state, so this one is ours to free.
    const g0 = tf.zerosLike(ctx.x);
    const out = ctx.iterate(
      ctx.x,
      ctx.params.steps as number,
      (xAdv, grad, [g]) => {
        // Per-point L1 normalisation (mean form; the constant factor does not change the sign).
        const l1 = tf.maximum(tf.mean(tf.abs(grad), [1, 2, 3], true), 1e-12);
        const momentum = tf.add(tf.mul(g!, mu), tf.div(grad, l1));
        return { x: tf.add(xAdv, tf.mul(tf.sign(momentum), a)), state: [momentum] };
      },
      [g0],
    );
    g0.dispose();
    return out;
  },
};
