// The smallest Linf step onto a hyperplane inside the [0, 1] box, solved exactly: FAB's
// projection. For a step d with |d_i| <= r, the largest reachable w.d is
// g(r) = sum_i |w_i| min(r, u_i), u_i the room to the bound in the direction sign(w_i c);
// g is piecewise linear and increasing, so sorting the u_i gives the smallest r with g(r) = |c|.
// Solved per row in float64 JavaScript by Newton steps from r = 0 (g is concave, so each step
// stays below the solution and adds at least one saturated coordinate until it is exact): no
// sort, which the backends do slowly (topk, gathers); FAB reads masks back every step anyway.
import { tf } from '../src/tf.js';

/** One row: writes d (minimal Linf with w.d = c, p + d in [0, 1]) into `out`. */
function solveRow(p: Float32Array, w: Float32Array, c: number, out: Float32Array, room: Float64Array): void {
  const dim = p.length;
  const sc = Math.sign(c);
  let maxRoom = 0;
  for (let i = 0; i < dim; i++) {
    const s = Math.sign(w[i]!) * sc;
    room[i] = s > 0 ? 1 - p[i]! : s < 0 ? p[i]! : 0;
    if (w[i] !== 0 && room[i]! > maxRoom) maxRoom = room[i]!;
  }
  const need = Math.abs(c);
  let r = 0;
  let saturated = -1;
  for (let iter = 0; iter <= dim; iter++) {
    // g(r) = below + r * slope: coordinates at their bound, and the |w| of the free ones.
    let below = 0;
    let slope = 0;
    let count = 0;
    for (let i = 0; i < dim; i++) {
      const a = Math.abs(w[i]!);
      if (room[i]! <= r) {
        below += a * room[i]!;
        count++;
      } else slope += a;
    }
    if (slope === 0) {
      // Every coordinate is at its bound and w.d still falls short: as far as the box allows.
      if (below < need) r = maxRoom;
      break;
    }
    if (count === saturated) break; // same linear piece as the last step: r is exact
    saturated = count;
    r = Math.max((need - below) / slope, r);
  }
  for (let i = 0; i < dim; i++) out[i] = Math.sign(w[i]!) * sc * Math.min(r, room[i]!);
}

/**
 * Per row of p, w [B, D] and c [B]: the minimal-Linf d with w.d = c and p + d in [0, 1].
 * Where no such d exists (c beyond the box), d goes as far as the box allows.
 */
export function minimalLinfStep(p: tf.Tensor2D, w: tf.Tensor2D, c: tf.Tensor1D): tf.Tensor2D {
  const [b, dim] = p.shape;
  const pv = p.dataSync() as Float32Array;
  const wv = w.dataSync() as Float32Array;
  const cv = c.dataSync() as Float32Array;
  const out = new Float32Array(b * dim);
  const room = new Float64Array(dim);
  for (let r = 0; r < b; r++) {
    const at = r * dim;
    solveRow(pv.subarray(at, at + dim), wv.subarray(at, at + dim), cv[r]!, out.subarray(at, at + dim), room);
  }
  return tf.tensor2d(out, [b, dim]);
}
