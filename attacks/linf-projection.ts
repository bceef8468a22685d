// The smallest Linf step onto a hyperplane inside the [0, 1] box, solved exactly: FAB's
// projection. For a step d with |d_i| <= r, the largest reachable w.d is
// g(r) = sum_i |w_i| min(r, u_i), u_i the room to the bound in the direction sign(w_i c);
// g is piecewise linear and increasing, so sorting the u_i gives the smallest r with g(r) = |c|.
import { tf } from '../src/tf.js';

/**
 * Per row of p, w [B, D] and c [B]: the minimal-Linf d with w.d = c and p + d in [0, 1].
 * Where no such d exists (c beyond the box), d goes as far as the box allows.
 */
export function minimalLinfStep(p: tf.Tensor2D, w: tf.Tensor2D, c: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, dim] = p.shape;
    const s = tf.mul(tf.sign(w), tf.reshape(tf.sign(c), [b, 1]));
    const room = tf.where(tf.greater(s, 0), tf.sub(1, p), tf.where(tf.less(s, 0), p, tf.zerosLike(p)));
    const aw = tf.abs(w);
    // Ascending room, with each coordinate's |w| alongside.
    const order = tf.topk(tf.neg(room), dim).indices;
    const u = gatherRows(room as tf.Tensor2D, order as tf.Tensor2D);
    const wu = gatherRows(aw, order as tf.Tensor2D);
    const below = tf.cumsum(tf.mul(wu, u), 1, true) as tf.Tensor2D; // sum over coordinates already at their bound
    const above = tf.cumsum(wu, 1, false, true) as tf.Tensor2D; // |w| of coordinates still free at r = u_j
    const reach = tf.add(below, tf.mul(u, above)); // g(u_j)
    const need = tf.reshape(tf.abs(c), [b, 1]);
    const reached = tf.greaterEqual(reach, need);
    const j = tf.argMax(tf.cast(reached, 'int32'), 1);
    const at = (t: tf.Tensor2D) => tf.squeeze(gatherRows(t, tf.reshape(j, [b, 1]) as tf.Tensor2D), [1]);
    const r = tf.div(tf.sub(tf.squeeze(need, [1]), at(below)), tf.maximum(at(above), 1e-30));
    const feasible = tf.any(reached, 1);
    const radius = tf.where(feasible, tf.maximum(r, 0), tf.max(room, 1));
    return tf.mul(s, tf.minimum(tf.reshape(radius, [b, 1]), room)) as tf.Tensor2D;
  });
}

/** out[i, k] = t[i, idx[i, k]] (a flat gather: the wasm backend's batched gather is unreliable). */
function gatherRows(t: tf.Tensor2D, idx: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, d] = t.shape;
    const offsets = tf.reshape(tf.mul(tf.range(0, b, 1, 'int32'), tf.scalar(d, 'int32')), [b, 1]);
    return tf.reshape(tf.gather(tf.reshape(t, [-1]), tf.add(tf.cast(idx, 'int32'), offsets)), idx.shape) as tf.Tensor2D;
  });
}
