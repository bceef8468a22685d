// Auto-PGD (Croce & Hein, ICML 2020), Linf: the step-size schedule with checkpoints, momentum
// 0.75, best-loss restarts at reductions. Shared by apgd-ce, apgd-dlr and apgd-t, which only
// choose the loss. Per point, the iterate that first fools the model is the result (early
// stop); points that are never fooled return their highest-loss iterate.
import { tf } from '../src/tf.js';
import { compactParam } from './params.js';
import { pointLoop } from './point-loop.js';
import { lossGradient, pickPoints, projectLinf } from './tensor-ops.js';
import type { AttackContext, LossFn, ParamSpec } from './types.js';

/** Iterations at which the step size is checked, with the length of the window ending there. */
export function apgdCheckpoints(steps: number): Map<number, number> {
  // The published schedule: first window 0.22 N, each next one 0.03 N shorter, at least 0.06 N.
  let k = Math.max(Math.floor(0.22 * steps), 1);
  const decrease = Math.max(Math.floor(0.03 * steps), 1);
  const minimum = Math.max(Math.floor(0.06 * steps), 1);
  const out = new Map<number, number>();
  for (let i = k - 1; i < steps; i += k) {
    out.set(i, k);
    k = Math.max(k - decrease, minimum);
  }
  return out;
}

const RHO = 0.75;
const MOMENTUM = 0.75;

export function apgdParams(): Record<string, ParamSpec> {
  return {
    steps: { type: 'int', default: 100, min: 1, max: 100000, help: 'iterations per run (AutoAttack: 100)' },
    restarts: { type: 'int', default: 1, min: 1, max: 1000, help: 'random restarts, each on the points not yet fooled' },
    ...compactParam(),
  };
}

/** Per-point step sizes etc. are [B]; this broadcasts them over an image batch. */
const perPoint = (v: tf.Tensor, like: tf.Tensor) => tf.reshape(v, [v.shape[0]!, ...like.shape.slice(1).map(() => 1)]);
const pick = pickPoints;

/**
 * One APGD run from a random start on every point of `ctx`. `lossFor(extra)` builds the loss
 * from the per-point extra constants (e.g. the target classes of the remaining points).
 */
export function apgdRun(ctx: AttackContext, lossFor: (extra: tf.Tensor[]) => LossFn, extra: tf.Tensor[] = []): tf.Tensor4D {
  const { x, labels, epsilon: eps, logits } = ctx;
  const steps = ctx.params.steps as number;
  const checkpoints = apgdCheckpoints(steps);
  const init = tf.tidy(() => {
    // The reference start: a uniform direction scaled to the ball's surface, in [0, 1].
    const t = tf.randomUniform(x.shape, -1, 1, 'float32', ctx.nextSeed());
    const tMax = tf.maximum(tf.max(tf.abs(t), [1, 2, 3], true), 1e-12);
    const x0 = tf.clipByValue(tf.add(x, tf.mul(tf.div(t, tMax), eps)), 0, 1) as tf.Tensor4D;
    const { grad, fooled, loss } = lossGradient(logits, x0, labels, lossFor(extra));
    const n = x.shape[0];
    // [xAdv, xOld, grad, loss, fooled, xBest, gradBest, lossBest, eta, increases, reducedLast, lossBestLastCheck]
    return [x0, x0.clone(), grad, loss, tf.cast(fooled, 'float32'), x0.clone(), grad.clone(), loss.clone(),
      tf.fill([n], 2 * eps), tf.zeros([n]), tf.ones([n]), loss.clone()];
  });
  const final = pointLoop(
    init,
    [x, labels, ...extra],
    steps,
    (s, [xc, y, ...ex], t) => {
      const [xAdv, xOld, grad, loss, fooled, xBest, gradBest, lossBest, eta, increases, reducedLast, lossBestLastCheck] = s as [
        tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D,
      ];
      const project = (v: tf.Tensor) => projectLinf(v, xc as tf.Tensor4D, eps);
      const a = t > 0 ? MOMENTUM : 1;
      const z1 = project(tf.add(xAdv, tf.mul(perPoint(eta, xAdv), tf.sign(grad))));
      const z2 = project(tf.add(tf.add(xAdv, tf.mul(tf.sub(z1, xAdv), a)), tf.mul(tf.sub(xAdv, xOld), 1 - a)));
      const g = lossGradient(logits, z2, y as tf.Tensor1D, lossFor(ex));
      const improved = tf.greater(g.loss, lossBest);
      let nextBest = pick(improved, z2, xBest);
      let nextGradBest = pick(improved, g.grad, gradBest);
      const nextLossBest = tf.where(improved, g.loss, lossBest);
      let nextIncreases = tf.add(increases, tf.cast(tf.greater(g.loss, loss), 'float32'));
      let nextX: tf.Tensor = z2;
      let nextGrad: tf.Tensor = g.grad;
      let nextEta: tf.Tensor = eta;
      let nextReduced: tf.Tensor = reducedLast;
      let nextLastCheck: tf.Tensor = lossBestLastCheck;
      const k = checkpoints.get(t);
      if (k !== undefined) {
        // Halve the step where the loss rose in at most 75% of the window's steps, or where the
        // step was not halved last time and the best loss has not improved since.
        const oscillating = tf.lessEqual(nextIncreases, k * RHO);
        const stalled = tf.logicalAnd(tf.equal(reducedLast, 0), tf.greaterEqual(lossBestLastCheck, nextLossBest));
        const flagged = tf.logicalOr(oscillating, stalled);
        // A point fooled right now is finished: its iterate must stay.
        const reduce = tf.logicalAnd(flagged, tf.logicalNot(g.fooled));
        nextEta = tf.where(reduce, tf.div(eta, 2), eta);
        nextX = pick(reduce, nextBest, z2);
        nextGrad = pick(reduce, nextGradBest, g.grad);
        nextReduced = tf.cast(flagged, 'float32');
        nextLastCheck = nextLossBest;
        nextIncreases = tf.zerosLike(increases);
      }
      return {
        state: [nextX, xAdv, nextGrad, g.loss, tf.cast(g.fooled, 'float32'), nextBest, nextGradBest, nextLossBest, nextEta, nextIncreases, nextReduced, nextLastCheck],
        done: tf.cast(fooled, 'bool') as tf.Tensor1D,
      };
    },
    ctx.stopMode === 'none' ? 'freeze' : ctx.stopMode,
  );
  const [xAdv, , , , fooled, xBest] = final;
  const out = tf.tidy(() => pick(fooled!, xAdv!, xBest!) as tf.Tensor4D);
  tf.dispose(final);
  return out;
}

/** Runs `single` on the points not fooled yet, `restarts` times (AutoAttack's restarts). */
export function withRestarts(ctx: AttackContext, single: (sub: AttackContext) => tf.Tensor4D): tf.Tensor4D {
  let current = ctx.x.clone();
  for (let r = 0; r < (ctx.params.restarts as number); r++) {
    const next = ctx.remaining(current, single);
    current.dispose();
    current = next;
  }
  return current;
}
