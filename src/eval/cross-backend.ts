// The same model, inputs and attacks on two TF.js backends, compared: logits, input gradients
// and weight gradients within float32 tolerance, per-point attack outcomes identical. The
// `cpu` backend is the reference the others are held to. Used by the cross-backend tests (CI
// sizes) and scripts/cross-backend.mjs (benchmark sizes).
import { tf } from '../tf.js';
import { logitsOf, marginOf, misclassified, perturb } from '../../attacks/index.js';
import { applyForTraining } from '../ops/recompute-layers.js';

/** Runs `body` with `name` as the engine's backend, then switches back. */
export async function onBackend<T>(name: string, body: () => T): Promise<T> {
  const previous = tf.getBackend();
  if (!(await tf.setBackend(name))) throw new Error(`TF.js backend '${name}' could not start.`);
  try {
    return body();
  } finally {
    await tf.setBackend(previous);
  }
}

/** What one backend computed for a model on a batch (all read back to JS). */
export interface ModelProbe {
  logits: Float32Array;
  /** Gradient of the summed cross-entropy w.r.t. the input (inference mode). */
  inputGradient: Float32Array;
  /** Loss and gradient of every trainable weight in training mode (one training step). */
  trainingLoss: number;
  weightGradients: Float32Array[];
  /** Per attack: per point, whether the adversarial example fools the model, and its margin. */
  attacks: Record<string, { fooled: boolean[]; margin: Float32Array }>;
}

export interface ProbeOptions {
  /** Attacks to run (names in the registry) with their parameters, at `epsilon`. */
  attacks: Record<string, Record<string, unknown>>;
  epsilon: number;
}

/**
 * Probes `model` on the current backend. The weights are restored afterwards (training mode
 * updates batch-norm and radius statistics), so the next backend starts from the same model.
 */
export function probeModel(model: tf.LayersModel, x: Float32Array, shape: number[], labels: Int32Array, o: ProbeOptions): ModelProbe {
  const saved = model.getWeights().map((w) => tf.keep(tf.clone(w)));
  const xs = tf.tensor4d(x, shape as [number, number, number, number]);
  const ys = tf.tensor1d(labels, 'int32');
  try {
    const logitsFn = logitsOf(model);
    const logits = readBack(() => logitsFn(xs));
    const classes = logits.length / labels.length;
    const loss = (z: tf.Tensor2D) => tf.losses.softmaxCrossEntropy(tf.oneHot(ys, classes), z, undefined, undefined, tf.Reduction.SUM);
    const inputGradient = readBack(() => tf.grad((xx) => loss(logitsFn(xx as tf.Tensor4D)))(xs));
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => {
      return tf.div(loss(applyForTraining(model, xs) as tf.Tensor2D), labels.length) as tf.Scalar;
    }, variables);
    const trainingLoss = value.dataSync()[0]!;
    const weightGradients = variables.map((v) => grads[v.name]!.dataSync() as Float32Array);
    tf.dispose([value, grads]);
    model.setWeights(saved);
    const attacks: ModelProbe['attacks'] = {};
    for (const [name, params] of Object.entries(o.attacks)) {
      const [fooled, margin] = tf.tidy(() => {
        const adv = perturb(name, logitsFn, xs, ys, o.epsilon, params);
        const z = logitsFn(adv);
        return [misclassified(z, ys), marginOf(z, ys)];
      });
      attacks[name] = { fooled: Array.from(fooled!.dataSync(), Boolean), margin: margin!.dataSync() as Float32Array };
      tf.dispose([fooled!, margin!]);
    }
    return { logits, inputGradient, trainingLoss, weightGradients, attacks };
  } finally {
    model.setWeights(saved);
    tf.dispose([...saved, xs, ys]);
  }
}

/** The values of the tensor `f` returns, which is then freed. */
function readBack(f: () => tf.Tensor): Float32Array {
  const t = tf.tidy(f);
  try {
    return t.dataSync() as Float32Array;
  } finally {
    t.dispose();
  }
}

/** Largest |a - b| relative to the largest |b| (the reference's scale; 1 if that is 0). */
export function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`compared arrays differ in length (${a.length} vs ${b.length})`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / (scale || 1);
}

/**
 * Attack outcomes that differ between two backends. A differing point is a near-tie when its
 * adversarial margin is within `tieMargin` of 0 on either backend (float rounding decides it);
 * every other difference is a real disagreement.
 */
export function outcomeDifferences(
  a: { fooled: boolean[]; margin: ArrayLike<number> },
  b: { fooled: boolean[]; margin: ArrayLike<number> },
  tieMargin: number,
): { differing: number; nearTies: number } {
  let differing = 0;
  let nearTies = 0;
  a.fooled.forEach((f, i) => {
    if (f === b.fooled[i]) return;
    differing++;
    if (Math.min(Math.abs(a.margin[i]!), Math.abs(b.margin[i]!)) <= tieMargin) nearTies++;
  });
  return { differing, nearTies };
}

/** How far `probe` is from the reference `ref`. */
export interface ProbeComparison {
  logits: number;
  inputGradient: number;
  trainingLoss: number;
  weightGradients: number;
  attacks: Record<string, { differing: number; nearTies: number; fooled: [number, number] }>;
}

export function compareProbes(probe: ModelProbe, ref: ModelProbe, tieMargin: number): ProbeComparison {
  const attacks: ProbeComparison['attacks'] = {};
  for (const name of Object.keys(ref.attacks)) {
    const [p, r] = [probe.attacks[name]!, ref.attacks[name]!];
    const count = (f: boolean[]) => f.filter(Boolean).length;
    attacks[name] = { ...outcomeDifferences(p, r, tieMargin), fooled: [count(p.fooled), count(r.fooled)] };
  }
  return {
    logits: relativeDifference(probe.logits, ref.logits),
    inputGradient: relativeDifference(probe.inputGradient, ref.inputGradient),
    trainingLoss: Math.abs(probe.trainingLoss - ref.trainingLoss) / Math.max(Math.abs(ref.trainingLoss), 1),
    weightGradients: Math.max(0, ...probe.weightGradients.map((g, i) => relativeDifference(g, ref.weightGradients[i]!))),
    attacks,
  };
}
