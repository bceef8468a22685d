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
  points: number;
  logits: Float32Array;
  /** Gradient of the summed cross-entropy w.r.t. the input (inference mode). */
  inputGradient: Float32Array;
  /** The decisions the backward pass takes at each ReLU and max pool. */
  gates: GateDecisions[];
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
    const gates = gateDecisions(model, xs);
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
    return { points: labels.length, logits, inputGradient, gates, trainingLoss, weightGradients, attacks };
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

const isGate = (layer: tf.layers.Layer) =>
  layer.getClassName() === 'ReLU' ||
  layer.getClassName() === 'MaxPooling2D' ||
  (layer.getClassName() === 'Activation' && layer.getConfig().activation === 'relu');

/** A gate's input within this share of the layer's largest value of a tie (relu: of 0). */
export const GATE_TIE = 1e-5;

/** One gate layer's decisions and near-ties, one byte per element of its input, point-major. */
export interface GateDecisions {
  /** ReLU: input > 0; max pool: the input its window selected (the pool's own gradient, so the backend's tie rule). */
  decision: Uint8Array;
  /** ReLU: |input| within GATE_TIE of 0; max pool: within GATE_TIE of its window's maximum. */
  nearTie: Uint8Array;
}

/**
 * Where a ReLU lets the gradient through and which input each max-pool window selects. Two
 * backends whose values differ by rounding can decide differently at a near-tie, and the
 * gradient then flows through another unit: such a point is compared apart.
 */
function gateDecisions(model: tf.LayersModel, xs: tf.Tensor4D): GateDecisions[] {
  const layers = model.layers.filter(isGate);
  if (!layers.length) return [];
  const tap = tf.model({ inputs: model.inputs, outputs: layers.map((l) => l.input as tf.SymbolicTensor) });
  return tf.tidy(() =>
    [tap.predict(xs) as tf.Tensor | tf.Tensor[]].flat().map((v, k) => {
      const layer = layers[k]!;
      const tol = tf.mul(tf.max(tf.abs(v)), GATE_TIE);
      const pool = layer.getClassName() === 'MaxPooling2D';
      const decision = pool ? tf.greater(tf.grad((u) => tf.sum(layer.apply(u) as tf.Tensor))(v), 0) : tf.greater(v, 0);
      const nearTie = pool ? tf.lessEqual(tf.sub(windowMaximum(layer, v as tf.Tensor4D), v), tol) : tf.lessEqual(tf.abs(v), tol);
      const bytes = (t: tf.Tensor) => Uint8Array.from(t.dataSync() as Uint8Array);
      return { decision: bytes(decision), nearTie: bytes(nearTie) };
    }),
  );
}

/**
 * Each input element's window maximum for a non-overlapping max pool (pool size == strides,
 * valid padding); elements outside every window, and other pools, get +Infinity (never a tie).
 */
function windowMaximum(layer: tf.layers.Layer, v: tf.Tensor4D): tf.Tensor4D {
  const c = layer.getConfig() as { poolSize: number[]; strides: number[]; padding: string };
  const [ph, pw] = c.poolSize as [number, number];
  const [n, h, w, ch] = v.shape;
  if (c.padding !== 'valid' || c.strides[0] !== ph || c.strides[1] !== pw) return tf.fill(v.shape, Infinity) as tf.Tensor4D;
  const out = layer.apply(v) as tf.Tensor4D;
  const [ho, wo] = [out.shape[1], out.shape[2]];
  const spread = out.reshape([n, ho, 1, wo, 1, ch]).tile([1, 1, ph, 1, pw, 1]).reshape([n, ho * ph, wo * pw, ch]);
  return tf.pad(spread, [[0, 0], [0, h - ho * ph], [0, w - wo * pw], [0, 0]], Infinity) as tf.Tensor4D;
}

/**
 * Per point, the gate decisions that differ between two probes of the same points: `ties`
 * where the element is a near-tie on either backend (rounding decides), `others` where it is
 * not (a real disagreement). A window's maximum is always near its own maximum: a backend that
 * selected a wrong input shows as that input, away from any tie.
 */
export function gateFlips(a: GateDecisions[], b: GateDecisions[], points: number): Array<{ ties: number; others: number }> {
  const flips = Array.from({ length: points }, () => ({ ties: 0, others: 0 }));
  a.forEach((gate, k) => {
    const ref = b[k]!;
    const per = gate.decision.length / points;
    for (let i = 0; i < gate.decision.length; i++) {
      if (gate.decision[i] === ref.decision[i]) continue;
      const f = flips[Math.floor(i / per)]!;
      if (gate.nearTie[i] || ref.nearTie[i]) f.ties++;
      else f.others++;
    }
  });
  return flips;
}

function maxAbs(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]!));
  return m;
}

/** The rows (points) of a point-major array whose index is not in `skip`. */
function rowsExcept(values: Float32Array, points: number, skip: Set<number>): Float32Array {
  const per = values.length / points;
  const out = new Float32Array((points - skip.size) * per);
  let at = 0;
  for (let p = 0; p < points; p++) if (!skip.has(p)) out.set(values.subarray(p * per, (p + 1) * per), (at++) * per);
  return out;
}

/** Largest |a - b| relative to the largest |b| (the reference's scale; 1 if that is 0). */
export function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return maxAbsDifference(a, b) / (maxAbs(b) || 1);
}

/** Largest |a - b|. */
function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`compared arrays differ in length (${a.length} vs ${b.length})`);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  return diff;
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
  /** Over the points whose gate decisions agree (a flipped gate moves the gradient). */
  inputGradient: number;
  /**
   * Points where a ReLU or max-pool decision differs between the backends only at near-ties
   * (rounding decided; their largest input-gradient difference, on the same scale), and the
   * number of decisions that differ away from any tie (a real disagreement).
   */
  gateFlips: { points: number[]; inputGradient: number; notTies: number };
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
  const points = ref.points;
  const flips = gateFlips(probe.gates, ref.gates, points);
  const flipped = flips.flatMap((f, i) => (f.ties + f.others ? [i] : []));
  const agreeing = flips.flatMap((f, i) => (f.ties + f.others ? [] : [i]));
  // One scale for both parts: the reference's largest gradient over all points.
  const scale = maxAbs(ref.inputGradient) || 1;
  const diff = (a: Float32Array, b: Float32Array) => maxAbsDifference(a, b) / scale;
  const keep = (v: Float32Array) => rowsExcept(v, points, new Set(flipped));
  const only = (v: Float32Array) => rowsExcept(v, points, new Set(agreeing));
  return {
    logits: relativeDifference(probe.logits, ref.logits),
    inputGradient: diff(keep(probe.inputGradient), keep(ref.inputGradient)),
    gateFlips: {
      points: flipped,
      inputGradient: flipped.length ? diff(only(probe.inputGradient), only(ref.inputGradient)) : 0,
      notTies: flips.reduce((t, f) => t + f.others, 0),
    },
    trainingLoss: Math.abs(probe.trainingLoss - ref.trainingLoss) / Math.max(Math.abs(ref.trainingLoss), 1),
    weightGradients: Math.max(0, ...probe.weightGradients.map((g, i) => relativeDifference(g, ref.weightGradients[i]!))),
    attacks,
  };
}
