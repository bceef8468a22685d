// FAB-T (Croce & Hein, ICML 2020), targeted, Linf: a minimal-norm attack. Each step projects
// both the current iterate and the clean point onto the linearised boundary towards the
// target class (the exact minimal Linf step in the box), moves to a mix of the two biased
// towards the clean point, and after each success steps back towards the clean point to find
// smaller perturbations. Targets are the top-k classes of each clean point, each tried on the
// points no earlier target fooled within epsilon.
import { tf } from '../src/tf.js';
import { targetClasses, targetCount } from './apgd-t.js';
import { minimalLinfStep } from './linf-projection.js';
import { targetMargin } from './losses.js';
import { pointLoop } from './point-loop.js';
import { lossGradient, misclassified, pickPoints } from './tensor-ops.js';
import { compactParam, targetsParam } from './params.js';
import type { AttackContext, AttackDefinition } from './types.js';

const NOT_FOUND = 1e10;

const flat = (t: tf.Tensor) => tf.reshape(t, [t.shape[0]!, -1]) as tf.Tensor2D;
const linf = (t: tf.Tensor) => tf.max(tf.abs(flat(t)), 1) as tf.Tensor1D;
const pick = pickPoints;

/**
 * One targeted FAB run from the clean points. Returns, per point, the smallest adversarial
 * example found if its Linf norm is at most epsilon, else the clean point.
 */
export function fabRun(ctx: AttackContext, targets: tf.Tensor1D): tf.Tensor4D {
  const { x, labels, logits, epsilon: eps } = ctx;
  const { steps, alphaMax, eta, beta, minimize } = ctx.params as { steps: number; alphaMax: number; eta: number; beta: number; minimize: boolean };
  const n = x.shape[0];
  const init = [x.clone(), x.clone(), tf.fill([n], NOT_FOUND)];
  const [x1, adv, res] = pointLoop(
    init,
    [x, labels, targets],
    steps,
    (state, [x0, y, t]) => {
      const [xc, best, norm] = state as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D];
      const g = lossGradient(logits, xc, y as tf.Tensor1D, targetMargin(t as tf.Tensor1D));
      const w = flat(g.grad);
      const p1 = flat(xc);
      const p0 = flat(x0!);
      // Steps onto {f = 0} of the linearisation f(z) = f(xc) + w.(z - xc), from xc and from x0.
      const d1 = minimalLinfStep(p1, w, tf.neg(g.loss));
      const d0 = minimalLinfStep(p0, w, tf.sub(tf.neg(g.loss), tf.sum(tf.mul(w, tf.sub(p0, p1)), 1)));
      // Step sizes floored at 1e-8 as in the reference (both zero: alpha 1/2, capped at alphaMax).
      const a1 = tf.maximum(tf.max(tf.abs(d1), 1), 1e-8);
      const a0 = tf.maximum(tf.max(tf.abs(d0), 1), 1e-8);
      const alpha = tf.reshape(tf.clipByValue(tf.div(a1, tf.add(a1, a0)), 0, alphaMax), [-1, 1]);
      const moved = tf.add(tf.mul(tf.add(p1, tf.mul(d1, eta)), tf.sub(1, alpha)), tf.mul(tf.add(p0, tf.mul(d0, eta)), alpha));
      const xn = tf.reshape(tf.clipByValue(moved, 0, 1), xc.shape) as tf.Tensor4D;
      const fooled = misclassified(logits(xn), y as tf.Tensor1D);
      const size = linf(tf.sub(xn, x0!));
      const better = tf.logicalAnd(fooled, tf.less(size, norm));
      return {
        state: [
          // After a success, step back towards the clean point to look for a smaller one.
          pick(fooled, tf.add(x0!, tf.mul(tf.sub(xn, x0!), beta)), xn),
          pick(better, xn, best),
          tf.where(better, size, norm),
        ],
        // At a fixed epsilon a point is finished once fooled inside the ball.
        done: minimize ? undefined : (tf.lessEqual(norm, eps) as tf.Tensor1D),
      };
    },
    ctx.stopMode === 'none' ? 'freeze' : ctx.stopMode,
  );
  const out = tf.tidy(() => pick(tf.lessEqual(res!, eps), adv!, x) as tf.Tensor4D);
  tf.dispose([x1!, adv!, res!]);
  return out;
}

export const fabT: AttackDefinition = {
  name: 'fab-t',
  norm: 'linf',
  needs: 'gradients',
  iterative: true,
  randomized: false,
  description: 'Targeted FAB (Linf, minimal norm): exact Linf projections onto the linearised boundary, over the top-k classes',
  params: {
    steps: { type: 'int', default: 100, min: 1, max: 100000, help: 'iterations per target (AutoAttack: 100)' },
    ...targetsParam(),
    alphaMax: { type: 'number', default: 0.1, min: 0, max: 1, help: 'largest weight of the step from the clean point' },
    eta: { type: 'number', default: 1.05, min: 1, max: 10, help: 'overshoot of each projection' },
    beta: { type: 'number', default: 0.9, min: 0, max: 1, help: 'pull back towards the clean point after a success' },
    minimize: {
      type: 'boolean',
      default: false,
      help: 'keep minimising the norm after a success (for minimal epsilons); false: a point stops once fooled within epsilon',
    },
    ...compactParam(),
  },
  run(ctx) {
    const ranks = Array.from({ length: targetCount(ctx) }, (_, i) => i + 1);
    const single = (sub: AttackContext, rank: number) => {
      const targets = targetClasses(sub, rank);
      const adv = fabRun(sub, targets);
      targets.dispose();
      return adv;
    };
    if (ctx.params.minimize) {
      // Minimal norms: every target on every point, the smallest adversarial example kept
      // (the nearest boundary need not be the second most likely class's).
      let best = single(ctx, ranks[0]!);
      for (const rank of ranks.slice(1)) {
        const next = single(ctx, rank);
        const merged = smaller(ctx, best, next);
        tf.dispose([best, next]);
        best = merged;
      }
      return best;
    }
    // At a fixed epsilon: each target only on the points no earlier target fooled (AutoAttack).
    let current = ctx.x.clone();
    for (const rank of ranks) {
      const next = ctx.remaining(current, (sub) => single(sub, rank));
      current.dispose();
      current = next;
    }
    return current;
  },
};

/** Per point, the adversarial one of a and b with the smaller Linf norm (a if neither fools). */
function smaller(ctx: AttackContext, a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const size = (t: tf.Tensor4D) => tf.where(misclassified(ctx.logits(t), ctx.labels), linf(tf.sub(t, ctx.x)), tf.fill([t.shape[0]], Infinity));
    return pick(tf.less(size(b), size(a)), b, a) as tf.Tensor4D;
  });
}
