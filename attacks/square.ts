// Square attack, Linf (Andriushchenko et al. 2020): score-based black-box random search.
// Needs only the model's outputs, so it is the standard check against gradient masking.
import { tf } from '../src/tf.js';
import { SeededRandom } from '../src/random.js';
import { readMask, selectPoints } from './tensor-ops.js';
import type { AttackContext, AttackDefinition } from './types.js';

/**
 * The paper's schedule of the square's area fraction, written for 10,000 queries
 * (reference code: p_selection(p_init, i_iter, n_iters), i_iter counting proposals from 0).
 */
export function squareFraction(pInit: number, query: number, queries: number): number {
  const it = Math.floor((query / queries) * 10000);
  const halvings = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000].filter((t) => it > t).length;
  return pInit / 2 ** halvings;
}

/** Per-point window masks [B, H, W, 1] of side s at random positions. */
function windowMask(ctx: AttackContext, rand: SeededRandom, s: number): tf.Tensor4D {
  const [b, h, w] = ctx.x.shape;
  const rows = new Int32Array(b);
  const cols = new Int32Array(b);
  for (let i = 0; i < b; i++) {
    rows[i] = rand.int(h - s + 1);
    cols[i] = rand.int(w - s + 1);
  }
  return tf.tidy(() => {
    const r0 = tf.tensor4d(rows, [b, 1, 1, 1]);
    const c0 = tf.tensor4d(cols, [b, 1, 1, 1]);
    const ri = tf.reshape(tf.range(0, h, 1, 'int32'), [1, h, 1, 1]);
    const ci = tf.reshape(tf.range(0, w, 1, 'int32'), [1, 1, w, 1]);
    const inRows = tf.logicalAnd(tf.greaterEqual(ri, r0), tf.less(ri, tf.add(r0, s)));
    const inCols = tf.logicalAnd(tf.greaterEqual(ci, c0), tf.less(ci, tf.add(c0, s)));
    return tf.logicalAnd(inRows, inCols) as tf.Tensor4D;
  });
}

/** Random signs (+-1) as a float tensor of the given shape. */
function randomSigns(shape: number[], rand: SeededRandom): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rand.next() < 0.5 ? -1 : 1;
  return tf.tensor(v, shape);
}

/**
 * The fraction of each proposal of a run with `queries` queries: the initialisation takes
 * the first query, proposal i (from 0) the next, so the first proposal uses p_init.
 */
export function proposalFractions(pInit: number, queries: number): number[] {
  return Array.from({ length: Math.max(0, queries - 1) }, (_, i) => squareFraction(pInit, i, queries));
}

const ALL_FOOLED_CHECK_EVERY = 20;

function allFooled(margin: tf.Tensor1D): boolean {
  return readMask(() => tf.all(tf.less(margin, 0)))[0] === 1;
}

export const square: AttackDefinition = {
  name: 'square',
  norm: 'linf',
  needs: 'outputs',
  iterative: true,
  randomized: true,
  description: 'Square attack (Linf): random search over square patches of +-eps, margin loss, outputs only',
  params: {
    queries: { type: 'int', default: 1000, min: 1, max: 1000000, help: 'model queries per point (the paper uses 10000)' },
    // 0.8 as in the reference implementation and AutoAttack's Square.
    pInit: { type: 'number', default: 0.8, min: 0.0001, max: 1, help: 'initial fraction of pixels changed per query' },
  },
  run(ctx) {
    const { x, epsilon: eps } = ctx;
    const [b, h, w, c] = x.shape;
    const rand = new SeededRandom(ctx.nextSeed());
    const queries = ctx.params.queries as number;
    const fractions = proposalFractions(ctx.params.pInit as number, queries);
    // Start from vertical stripes of +-eps (the paper's initialisation).
    let best = tf.tidy(() => ctx.project(tf.add(x, tf.mul(randomSigns([b, 1, w, c], rand), eps))));
    let bestMargin = ctx.margin(best);
    for (let q = 1; q < queries; q++) {
      // Score-based, so reading one scalar back is allowed: stop once every point is fooled.
      if (q % ALL_FOOLED_CHECK_EVERY === 0 && allFooled(bestMargin)) break;
      const p = fractions[q - 1]!;
      const s = Math.min(Math.max(Math.round(Math.sqrt(p * h * w)), 1), Math.min(h, w) - 1 || 1);
      const [nextBest, nextMargin] = tf.tidy(() => {
        const window = tf.broadcastTo(windowMask(ctx, rand, s), [b, h, w, c]);
        const patch = tf.broadcastTo(tf.mul(randomSigns([b, 1, 1, c], rand), eps), [b, h, w, c]);
        const delta = tf.where(window, patch, tf.sub(best, x));
        const candidate = ctx.project(tf.add(x, delta));
        const margin = ctx.margin(candidate);
        // Only points not yet fooled are updated (per-point early stop).
        const improved = tf.logicalAnd(tf.less(margin, bestMargin), tf.greaterEqual(bestMargin, 0)) as tf.Tensor1D;
        return [selectPoints(improved, candidate, best), tf.where(improved, margin, bestMargin)];
      });
      tf.dispose([best, bestMargin]);
      best = nextBest as tf.Tensor4D;
      bestMargin = nextMargin as tf.Tensor1D;
    }
    bestMargin.dispose();
    return best;
  },
};
