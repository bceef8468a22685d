// Square attack, Linf (Andriushchenko et al. 2020): score-based black-box random search.
// Needs only the model's outputs, so it is the standard check against gradient masking.
// Every point draws from its own stream, seeded by the attack's seed and the point's index in
// the evaluation, so a point's result does not depend on its batch: fooled points can leave
// the batch (compaction) without changing anyone's result.
import { tf } from '../src/tf.js';
import { SeededRandom } from '../src/random.js';
import { compactParam } from './params.js';
import { pointLoop } from './point-loop.js';
import { marginOf, selectPoints } from './tensor-ops.js';
import type { AttackDefinition } from './types.js';

/** The halving points of the square's area fraction, for a run of 10,000 proposals. */
const HALVINGS = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000];

/**
 * The fraction of pixels of proposal `proposal` (from 0), reference code's
 * p_selection(p_init, i_iter, n_queries). With `rescale` the schedule written for 10,000
 * proposals is stretched to `queries` (the Square paper's code); without, it is used as
 * written (AutoAttack's Square: resc_schedule=False, so 5,000 queries stop at p_init / 128).
 */
export function squareFraction(pInit: number, proposal: number, queries: number, rescale = true): number {
  const it = rescale ? Math.floor((proposal / queries) * 10000) : proposal;
  return pInit / 2 ** HALVINGS.filter((t) => it > t).length;
}

/**
 * The fraction of each proposal of a run with `queries` queries: the initialisation takes
 * the first query, proposal i (from 0) the next, so the first proposal uses p_init.
 */
export function proposalFractions(pInit: number, queries: number, rescale = true): number[] {
  return Array.from({ length: Math.max(0, queries - 1) }, (_, i) => squareFraction(pInit, i, queries, rescale));
}

/** Side of the square for fraction p of an h x w image (reference: round, at least 1, at most the image). */
export function squareSide(p: number, h: number, w: number): number {
  return Math.min(Math.max(Math.round(Math.sqrt(p * h * w)), 1), Math.min(h, w));
}

/** A point's own stream: a hash of the attack's seed and the point's index (murmur3's finaliser). */
export function pointSeed(seed: number, pointId: number): number {
  let h = (seed ^ Math.imul(pointId + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const sign = (rand: SeededRandom) => (rand.next() < 0.5 ? -1 : 1);

/** Vertical stripes of +-1 per point ([n, 1, w, c]: one sign per column and channel). */
function stripes(streams: SeededRandom[], w: number, c: number): tf.Tensor4D {
  const v = new Float32Array(streams.length * w * c);
  streams.forEach((rand, i) => {
    for (let k = 0; k < w * c; k++) v[i * w * c + k] = sign(rand);
  });
  return tf.tensor4d(v, [streams.length, 1, w, c]);
}

/**
 * One proposal per point: +-1 per channel inside a square of side s at a uniformly random
 * position, 0 elsewhere ([n, h, w, c]). Built in JavaScript: one upload instead of a dozen
 * small ops per query, which dominate once few points remain.
 */
function proposals(streams: SeededRandom[], s: number, h: number, w: number, c: number): tf.Tensor4D {
  const v = new Float32Array(streams.length * h * w * c);
  const signs = new Array<number>(c);
  streams.forEach((rand, i) => {
    const r0 = rand.int(h - s + 1);
    const c0 = rand.int(w - s + 1);
    for (let ch = 0; ch < c; ch++) signs[ch] = sign(rand);
    for (let r = r0; r < r0 + s; r++) {
      for (let col = c0; col < c0 + s; col++) {
        const at = ((i * h + r) * w + col) * c;
        for (let ch = 0; ch < c; ch++) v[at + ch] = signs[ch]!;
      }
    }
  });
  return tf.tensor4d(v, [streams.length, h, w, c]);
}

export const square: AttackDefinition = {
  name: 'square',
  norm: 'linf',
  needs: 'outputs',
  iterative: true,
  randomized: true,
  description: 'Square attack (Linf): random search over square patches of +-eps, margin loss, outputs only',
  params: {
    queries: { type: 'int', default: 1000, min: 1, max: 1000000, help: 'model queries per point, the initialisation included (the paper uses 10000)' },
    // 0.8 as in the reference implementation and AutoAttack's Square.
    pInit: { type: 'number', default: 0.8, min: 0.0001, max: 1, help: 'initial fraction of pixels changed per query' },
    rescaleSchedule: {
      type: 'boolean',
      default: true,
      help: "stretch the fraction schedule (written for 10000 queries) to `queries`; AutoAttack's Square does not",
    },
    ...compactParam(),
  },
  run(ctx) {
    const { x, labels, epsilon: eps } = ctx;
    const [, h, w, c] = x.shape;
    const seed = ctx.nextSeed();
    const streams = ctx.pointIds.map((id) => new SeededRandom(pointSeed(seed, id)));
    const fractions = proposalFractions(ctx.params.pInit as number, ctx.params.queries as number, ctx.params.rescaleSchedule as boolean);
    // Start from vertical stripes of +-eps (the paper's initialisation, the first query).
    const init = tf.tidy(() => {
      const start = ctx.project(tf.add(x, tf.mul(stripes(streams, w, c), eps)));
      return [start, ctx.margin(start)];
    });
    const [best, margin] = pointLoop(
      init,
      [x, labels],
      fractions.length,
      ([best, bestMargin], [x0, y], t, active) => {
        const delta = proposals(active.map((i) => streams[i]!), squareSide(fractions[t]!, h, w), h, w, c);
        // The square moves to a corner of the ball (x0 +- eps, in [0, 1]); the rest keeps best
        // (a blend with the 0/1 window, exact, and far cheaper than tf.where on wasm).
        const inside = tf.abs(delta);
        const corner = tf.clipByValue(tf.add(x0!, tf.mul(delta, eps)), 0, 1);
        const candidate = tf.add(tf.mul(best!, tf.sub(1, inside)), tf.mul(corner, inside));
        const m = marginOf(ctx.logits(candidate as tf.Tensor4D), y as tf.Tensor1D);
        // Only points not yet fooled take a proposal that lowers the margin.
        const improved = tf.logicalAnd(tf.less(m, bestMargin!), tf.greaterEqual(bestMargin!, 0)) as tf.Tensor1D;
        return {
          state: [selectPoints(improved, candidate, best!), tf.where(improved, m, bestMargin!)],
          done: tf.less(bestMargin!, 0) as tf.Tensor1D,
        };
      },
      ctx.stopMode === 'none' ? 'freeze' : ctx.stopMode,
    );
    margin!.dispose();
    return best as tf.Tensor4D;
  },
};
