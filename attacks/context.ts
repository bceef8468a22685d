// The shared attack machinery handed to every attack: projection, gradients, the iterate
// loop with per-point early stop, random starts and restarts, seeding.
import { tf } from '../src/tf.js';
import { resolveStepSize } from './params.js';
import { SeededRandom } from '../src/random.js';
import { lossGradient, marginOf, misclassified, projectLinf, selectPoints } from './tensor-ops.js';
import type { AttackContext, LogitsFn, ParamValues } from './types.js';

export function createContext(
  logits: LogitsFn,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  epsilon: number,
  params: ParamValues,
  seed: number,
): AttackContext {
  // Derived from the run's seed, so an attack's random draws differ from the caller's own stream.
  const seeds = new SeededRandom(seed ^ 0x5bd1e995);
  const nextSeed = () => seeds.seed();
  const project = (xAdv: tf.Tensor) => projectLinf(xAdv, x, epsilon);
  const gradient = (xAdv: tf.Tensor4D) => lossGradient(logits, xAdv, labels);
  // Attacks without the parameter (and the default) stop per point once it is fooled.
  const earlyStop = params.earlyStop !== false;

  function iterate(
    start: tf.Tensor4D,
    steps: number,
    step: (xAdv: tf.Tensor4D, grad: tf.Tensor4D, state: tf.Tensor[]) => { x: tf.Tensor; state?: tf.Tensor[] },
    initialState: tf.Tensor[] = [],
  ): tf.Tensor4D {
    let xc = project(start);
    let frozen = tf.zeros([x.shape[0]], 'bool') as tf.Tensor1D;
    let state = initialState.map((s) => s.clone());
    for (let t = 0; t < steps; t++) {
      const [xn, fn, ...sn] = tf.tidy(() => {
        const { grad, fooled } = gradient(xc);
        const stop = (earlyStop ? tf.logicalOr(frozen, fooled) : tf.clone(frozen)) as tf.Tensor1D;
        const out = step(xc, grad, state);
        const moved = project(out.x);
        return [selectPoints(stop, xc, moved), stop, ...(out.state ?? state)];
      });
      // A step that returns no new state keeps the old tensors: dispose them only if replaced.
      tf.dispose(sn.length && sn[0] !== state[0] ? [xc, frozen, ...state] : [xc, frozen]);
      xc = xn as tf.Tensor4D;
      frozen = fn as tf.Tensor1D;
      state = sn;
    }
    tf.dispose([frozen, ...state]);
    return xc;
  }

  return {
    x,
    labels,
    epsilon,
    logits,
    params,
    project,
    gradient,
    margin: (xAdv) => tf.tidy(() => marginOf(logits(xAdv), labels)),
    stepSize: () => resolveStepSize(params, epsilon),
    iterate,
    randomStart: () => tf.tidy(() => project(tf.add(x, tf.randomUniform(x.shape, -epsilon, epsilon, 'float32', nextSeed())))),
    keepFooling: (current, candidate) =>
      tf.tidy(() => selectPoints(misclassified(logits(current), labels), current, candidate)),
    nextSeed,
  };
}
