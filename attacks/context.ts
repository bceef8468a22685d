// The shared attack machinery handed to every attack: projection, gradients of a chosen loss,
// the iterate loop with per-point early stop (and compaction), random starts and restarts,
// attacks restricted to the points not yet fooled, seeding.
import { tf } from '../src/tf.js';
import { crossEntropy, lossByName } from './losses.js';
import { resolveStepSize } from './params.js';
import { SeededRandom } from '../src/random.js';
import { pointLoop, reassemble, type StopMode } from './point-loop.js';
import { lossGradient, marginOf, misclassified, projectLinf, readMask, selectPoints } from './tensor-ops.js';
import type { AttackContext, LogitsFn, LossFn, ParamValues } from './types.js';

/** How an attack's points stop: from its `earlyStop` and `compact` parameters (default: compact). */
export function stopMode(params: ParamValues): StopMode {
  if (params.earlyStop === false) return 'none';
  return params.compact === false ? 'freeze' : 'compact';
}

export function createContext(
  logits: LogitsFn,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  epsilon: number,
  params: ParamValues,
  seed: number,
  pointIds: readonly number[] = Array.from({ length: x.shape[0] }, (_, i) => i),
): AttackContext {
  if (pointIds.length !== x.shape[0]) throw new Error(`pointIds has ${pointIds.length} entries for ${x.shape[0]} points`);
  // Derived from the run's seed, so an attack's random draws differ from the caller's own stream.
  const seeds = new SeededRandom(seed ^ 0x5bd1e995);
  const nextSeed = () => seeds.seed();
  const project = (xAdv: tf.Tensor) => projectLinf(xAdv, x, epsilon);
  const defaultLoss: LossFn = typeof params.loss === 'string' ? lossByName(params.loss) : crossEntropy;
  const gradient = (xAdv: tf.Tensor4D, loss: LossFn = defaultLoss) => lossGradient(logits, xAdv, labels, loss);
  const mode = stopMode(params);

  function iterate(
    start: tf.Tensor4D,
    steps: number,
    step: (xAdv: tf.Tensor4D, grad: tf.Tensor4D, state: tf.Tensor[]) => { x: tf.Tensor; state?: tf.Tensor[] },
    initialState: tf.Tensor[] = [],
  ): tf.Tensor4D {
    const init = [project(start), ...initialState.map((s) => s.clone())];
    // The clean inputs and labels travel as per-point constants (restricted when compacting).
    const [xFinal, ...rest] = pointLoop(
      init,
      [x, labels],
      steps,
      ([xc, ...state], [x0, y]) => {
        const { grad, fooled } = lossGradient(logits, xc as tf.Tensor4D, y as tf.Tensor1D, defaultLoss);
        const out = step(xc as tf.Tensor4D, grad, state);
        return { state: [projectLinf(out.x, x0 as tf.Tensor4D, epsilon), ...(out.state ?? state)], done: fooled };
      },
      mode,
    );
    tf.dispose(rest);
    return xFinal as tf.Tensor4D;
  }

  function remaining(current: tf.Tensor4D, run: (sub: AttackContext) => tf.Tensor4D, subParams: ParamValues = params): tf.Tensor4D {
    const fooled = readMask(() => misclassified(logits(current), labels));
    const left: number[] = [];
    const done: number[] = [];
    fooled.forEach((f, i) => (f ? done : left).push(i));
    // Drawn even when nothing is left, so later seeds do not depend on earlier outcomes.
    const subSeed = nextSeed();
    if (!left.length) return current.clone();
    // In a tidy: whatever the sub-run leaves behind is freed with it.
    const runOn = (xs: tf.Tensor4D, ys: tf.Tensor1D, ids: readonly number[]) =>
      tf.tidy(() => run(createContext(logits, xs, ys, epsilon, subParams, subSeed, ids)));
    if (!done.length) return runOn(x, labels, pointIds);
    const [xs, ys, cd] = tf.tidy(() => {
      const l = tf.tensor1d(left, 'int32');
      return [tf.gather(x, l), tf.gather(labels, l), tf.gather(current, tf.tensor1d(done, 'int32'))];
    });
    const adv = runOn(xs as tf.Tensor4D, ys as tf.Tensor1D, left.map((i) => pointIds[i]!));
    tf.dispose([xs!, ys!]);
    return reassemble(
      [
        { rows: [cd!], indices: done },
        { rows: [adv], indices: left },
      ],
      x.shape[0],
    )[0] as tf.Tensor4D;
  }

  return {
    x,
    labels,
    pointIds,
    epsilon,
    logits,
    params,
    project,
    gradient,
    lossFn: defaultLoss,
    margin: (xAdv) => tf.tidy(() => marginOf(logits(xAdv), labels)),
    stepSize: () => resolveStepSize(params, epsilon),
    iterate,
    stopMode: mode,
    remaining,
    randomStart: () => tf.tidy(() => project(tf.add(x, tf.randomUniform(x.shape, -epsilon, epsilon, 'float32', nextSeed())))),
    keepFooling: (current, candidate) =>
      tf.tidy(() => selectPoints(misclassified(logits(current), labels), current, candidate)),
    nextSeed,
  };
}
