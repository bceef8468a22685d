// The shared per-point iteration mechanism: a state of tensors whose first axis is the point,
// advanced step by step, where a point that is done either stays frozen in the batch
// ('freeze': no readback, the batch keeps its size) or leaves it ('compact': one mask is read
// back per step and later steps run only on the points that remain, so the cost follows
// them). Both give the same per point result as long as a step treats points independently
// and draws no random numbers.
import { tf } from '../src/tf.js';
import { selectPoints } from './tensor-ops.js';

export type StopMode = 'none' | 'freeze' | 'compact';

export interface LoopStep {
  /** The next state, same tensors in the same order. */
  state: tf.Tensor[];
  /** Points whose *input* state was already final: they keep it. Ignored in mode 'none'. */
  done?: tf.Tensor1D;
}

/**
 * Runs `steps` steps of `step(state, consts, t, active)`. `state` is owned by the loop (its
 * tensors are disposed as they are replaced); `consts` (per point too: clean inputs, labels)
 * are only read and arrive restricted to the remaining points, whose original indices are
 * `active` (row k of the state is point active[k]: per-point generators follow their point).
 * Each step runs in a tf.tidy. Returns the final state over all points, in the original order.
 */
export function pointLoop(
  state: tf.Tensor[],
  consts: tf.Tensor[],
  steps: number,
  step: (state: tf.Tensor[], consts: tf.Tensor[], t: number, active: readonly number[]) => LoopStep,
  mode: StopMode,
): tf.Tensor[] {
  const n = state[0]!.shape[0];
  let frozen = mode === 'freeze' ? (tf.zeros([n], 'bool') as tf.Tensor1D) : undefined;
  let active: number[] = Array.from({ length: n }, (_, i) => i);
  let sub = consts;
  const retired: Retired[] = [];
  for (let t = 0; t < steps && active.length; t++) {
    const out = tf.tidy(() => {
      const r = step(state, sub, t, active);
      if (mode === 'none' || !r.done) return { next: r.state, done: undefined };
      if (mode === 'freeze') {
        const stop = tf.logicalOr(frozen!, r.done) as tf.Tensor1D;
        return { next: r.state.map((s, k) => selectPoints(stop, state[k]!, s)), done: stop };
      }
      return { next: r.state, done: r.done };
    });
    if (mode === 'freeze') {
      frozen!.dispose();
      frozen = out.done;
    } else if (mode === 'compact' && out.done) {
      const flags = out.done.dataSync();
      out.done.dispose();
      const leave: number[] = [];
      const stay: number[] = [];
      flags.forEach((f, i) => (f ? leave : stay).push(i));
      if (leave.length) {
        // Done points leave with their input state; the others continue with their next state.
        retired.push({ rows: gatherAll(state, leave), indices: leave.map((i) => active[i]!) });
        const kept = gatherAll(out.next, stay);
        tf.dispose(out.next);
        out.next = kept;
        if (sub !== consts) tf.dispose(sub);
        sub = stay.length ? gatherAll(consts, stay.map((i) => active[i]!)) : [];
        active = stay.map((i) => active[i]!);
      }
    }
    tf.dispose(state.filter((s) => !out.next.includes(s)));
    state = out.next;
  }
  frozen?.dispose();
  if (sub !== consts) tf.dispose(sub);
  if (!retired.length) return state;
  retired.push({ rows: state, indices: active });
  return reassemble(retired, n);
}

interface Retired {
  rows: tf.Tensor[];
  /** Original point index of each row. */
  indices: number[];
}

function gatherAll(ts: tf.Tensor[], rows: number[]): tf.Tensor[] {
  return tf.tidy(() => {
    const idx = tf.tensor1d(rows, 'int32');
    return ts.map((t) => tf.gather(t, idx));
  });
}

/**
 * Puts row pieces back in the original order: every point appears in exactly one piece.
 * Consumes the pieces.
 */
export function reassemble(pieces: Retired[], n: number): tf.Tensor[] {
  const order = new Int32Array(n);
  let offset = 0;
  for (const p of pieces) {
    p.indices.forEach((orig, k) => (order[orig] = offset + k));
    offset += p.indices.length;
  }
  const width = pieces[0]!.rows.length;
  const out = tf.tidy(() => {
    const idx = tf.tensor1d(order, 'int32');
    return Array.from({ length: width }, (_, k) => {
      const parts = pieces.map((p) => p.rows[k]!).filter((t) => t.shape[0] > 0);
      return tf.gather(parts.length === 1 ? parts[0]! : tf.concat(parts, 0), idx);
    });
  });
  for (const p of pieces) tf.dispose(p.rows);
  return out;
}
