// One batch of an evaluation: clean predictions, gradient statistics, every attack at every
// epsilon, the noise baseline and (once) the check probes. Returns plain data only,
// so it can be merged, checkpointed and resumed.
import { tf } from '../tf.js';
import { AttackError, lossGradient, misclassified, perturb, perturbWithMembers, type LogitsFn } from '../../attacks/index.js';
import type { CheckInputs } from './checks.js';
import { minimalEpsilons } from './minimal-epsilon.js';
import type { Plan } from './plan.js';
import { countOnes } from './wilson.js';

export interface RunOutcome {
  /** '0'/'1' per point of the batch: 1 = clean-correct and not fooled. */
  robust: string;
  seconds: number;
  attacked: number;
  maxPerturbation: number;
  invalidPoints: number;
  /** Ensembles: per member, '0'/'1' per point robust after that member (cumulative). */
  members?: Array<{ attack: string; robust: string }>;
}

export interface BatchOutcome {
  start: number;
  m: number;
  numClasses: number;
  /** '0'/'1' per point: clean-correct. */
  clean: string;
  probabilityLike: number;
  gradients: { points: number; allZero: number; withNaN: number; withInf: number };
  /** One per plan and epsilon, plan-major. */
  runs: RunOutcome[];
  /** Per noise epsilon, one per draw: '1' = still correct under that draw of random sign noise. */
  noise: string[][];
  identity?: CheckInputs['identity'];
  collapse?: CheckInputs['collapse'];
  /** Minimal epsilon per point of the batch (when requested; see minimal-epsilon.ts). */
  minimalEpsilon?: Array<number | null>;
}

/**
 * Transfer examples of whole batches, computed once on the source and reused for every target.
 * Keys hold the attack, epsilon, batch and seed; the owner keeps one cache per source model and
 * data set, and disposes the tensors (`clearTransferCache`) when done.
 */
export type TransferCache = Map<string, tf.Tensor4D>;

export function clearTransferCache(cache: TransferCache): void {
  for (const t of cache.values()) t.dispose();
  cache.clear();
}

export interface BatchContext {
  target: LogitsFn;
  /** Transfer sources by a plan's sourceIndex (0: the evaluation's source). */
  sources: Array<LogitsFn | undefined>;
  plans: Plan[];
  noiseEpsilons: number[];
  /** Independent draws of the noise per epsilon (their worst case and mean are reported). */
  noiseDraws: number;
  withChecks: boolean;
  allowProbabilities: boolean;
  images: Float32Array;
  labels: Int32Array;
  shape: [number, number, number];
  seed: number;
  /** One cache per source (same order as `sources`). */
  transferCaches?: Array<TransferCache | undefined>;
  /** Run the check probes on this batch (the first batch that has clean-correct points). */
  runProbes: boolean;
  /** FAB-T parameters for minimal epsilons per point; absent: not computed. */
  minimalEpsilon?: Record<string, unknown>;
  onRun?: (plan: Plan, epsilon: number) => void;
}

/** Large-eps probe (spec check 3): BIM travelling 2 eps in 20 steps at eps 0.5. */
const COLLAPSE_PROBE = { epsilon: 0.5, params: { steps: 20, relStepSize: 0.1 }, points: 32 };
const IDENTITY_PROBE_POINTS = 8;
export const LARGE_EPS = 0.3;

/** A deterministic per-batch seed from the run's seed. */
const batchSeed = (seed: number, start: number) => (Math.imul(seed + 1, 0x9e3779b1) ^ start) >>> 0;

function read(t: tf.Tensor): Float32Array | Int32Array | Uint8Array {
  const v = t.dataSync() as Float32Array | Int32Array | Uint8Array;
  t.dispose();
  return v;
}

const fooledBy = (target: LogitsFn, adv: tf.Tensor4D, y: tf.Tensor1D) => read(tf.tidy(() => misclassified(target(adv), y)));

/** Per-point validity of adversarial examples: inside the ball, in [0, 1], finite. */
function validity(adv: tf.Tensor4D, x: tf.Tensor4D, eps: number): { maxPerturbation: number; invalid: number } {
  const [maxPert, invalid] = tf.tidy(() => {
    const d = tf.abs(tf.sub(adv, x));
    const outside = tf.logicalOr(tf.greater(d, eps + 1e-6), tf.logicalOr(tf.less(adv, 0), tf.greater(adv, 1)));
    const bad = tf.logicalOr(outside, tf.logicalNot(tf.isFinite(adv)));
    return [tf.max(d), tf.sum(tf.cast(tf.any(bad, [1, 2, 3]), 'int32'))];
  });
  return { maxPerturbation: read(maxPert!)[0]!, invalid: read(invalid!)[0]! };
}

/** Scatters per-attacked-point fooled flags back to a '0'/'1' string over the batch. */
function robustBits(m: number, correctIdx: number[], fooled: ArrayLike<number>): string {
  const bits = new Array<string>(m).fill('0');
  correctIdx.forEach((j, k) => (bits[j] = fooled[k] ? '0' : '1'));
  return bits.join('');
}

export function evaluateBatch(ctx: BatchContext, start: number, m: number): BatchOutcome {
  const [h, w, c] = ctx.shape;
  const d = h * w * c;
  const seed = batchSeed(ctx.seed, start);
  const { target } = ctx;
  const x = tf.tensor4d(ctx.images.subarray(start * d, (start + m) * d), [m, h, w, c]);
  const y = tf.tensor1d(ctx.labels.subarray(start, start + m), 'int32');
  try {
    let numClasses = 0;
    const [pred, probLike] = tf.tidy(() => {
      const z = target(x);
      numClasses = z.shape[1];
      const nonNeg = tf.all(tf.greaterEqual(z, 0), 1);
      const sumsToOne = tf.less(tf.abs(tf.sub(tf.sum(z, 1), 1)), 1e-3);
      return [tf.argMax(z, 1), tf.sum(tf.cast(tf.logicalAnd(nonNeg, sumsToOne), 'int32'))];
    });
    const probabilityLike = read(probLike!)[0]!;
    const predicted = read(pred!);
    if (probabilityLike === m && m > 1 && !ctx.allowProbabilities) {
      throw new AttackError(
        "The model's outputs look like probabilities (every row is >= 0 and sums to 1). Attacks need logits: " +
          'remove the final softmax (or pass allowProbabilities / --allow-probabilities to get flagged numbers anyway).',
      );
    }
    const correctIdx: number[] = [];
    for (let j = 0; j < m; j++) if (predicted[j] === ctx.labels[start + j]) correctIdx.push(j);
    const out: BatchOutcome = {
      start,
      m,
      numClasses,
      clean: robustBits(m, correctIdx, []),
      probabilityLike,
      gradients: ctx.withChecks ? gradientStats(target, x, y) : { points: 0, allZero: 0, withNaN: 0, withInf: 0 },
      runs: [],
      noise: [],
    };
    const idx = tf.tensor1d(correctIdx, 'int32');
    // Indices in the evaluation: per-point random streams (Square) follow the point, not the batch.
    const pointIds = correctIdx.map((j) => start + j);
    const xa = tf.gather(x, idx) as tf.Tensor4D;
    const ya = tf.gather(y, idx) as tf.Tensor1D;
    try {
      for (const plan of ctx.plans) {
        const on = plan.kind === 'transfer' ? ctx.sources[plan.sourceIndex ?? 0]! : target;
        const cache = plan.kind === 'transfer' ? ctx.transferCaches?.[plan.sourceIndex ?? 0] : undefined;
        for (const eps of plan.epsilons) {
          if (!correctIdx.length) {
            out.runs.push({ robust: '0'.repeat(m), seconds: 0, attacked: 0, maxPerturbation: 0, invalidPoints: 0 });
            continue;
          }
          const t0 = performance.now();
          const { adv, members } =
            cache
              ? { adv: cachedTransfer(cache, plan, eps, x, y, idx, start, seed, on), members: undefined }
              : perturbWithMembers(plan.attack, on, xa, ya, eps, plan.params, seed, pointIds);
          const fooled = fooledBy(target, adv, ya);
          const seconds = (performance.now() - t0) / 1000;
          const v = validity(adv, xa, eps);
          adv.dispose();
          out.runs.push({
            robust: robustBits(m, correctIdx, fooled),
            seconds,
            attacked: correctIdx.length,
            maxPerturbation: v.maxPerturbation,
            invalidPoints: v.invalid,
            ...(members ? { members: members.map((mb) => ({ attack: mb.name, robust: robustBits(m, correctIdx, mb.fooled) })) } : {}),
          });
          ctx.onRun?.(plan, eps);
        }
      }
      for (const eps of ctx.noiseEpsilons) {
        const draws: string[] = [];
        for (let k = 0; k < ctx.noiseDraws; k++) {
          // Draw k uses the same signs at every epsilon (only the size changes).
          const noisy = tf.tidy(() => tf.clipByValue(tf.add(xa, tf.mul(tf.sign(tf.randomUniform(xa.shape, -1, 1, 'float32', (seed + k * 0x632be5ab) >>> 0)), eps)), 0, 1) as tf.Tensor4D);
          draws.push(robustBits(m, correctIdx, correctIdx.length ? fooledBy(target, noisy, ya) : []));
          noisy.dispose();
        }
        out.noise.push(draws);
      }
      if (ctx.minimalEpsilon) {
        // Attacked on the clean-correct points only; clean mistakes have minimal epsilon 0.
        const found = correctIdx.length ? minimalEpsilons(target, xa, ya, ctx.minimalEpsilon, seed) : [];
        out.minimalEpsilon = new Array<number | null>(m).fill(0);
        correctIdx.forEach((j, k) => (out.minimalEpsilon![j] = found[k]!));
      }
      if (ctx.withChecks && ctx.runProbes && correctIdx.length) {
        out.identity = identityProbe(ctx, xa, ya, seed);
        out.collapse = needsCollapseProbe(ctx.plans) ? collapseProbe(target, xa, ya, seed) : undefined;
      }
    } finally {
      tf.dispose([idx, xa, ya]);
    }
    return out;
  } finally {
    tf.dispose([x, y]);
  }
}

/**
 * Transfer examples for the clean-correct points, from the whole batch's examples computed once
 * on the source. Per-point attacks (FGSM, BIM, MI-FGSM: no randomness, and no early stop for
 * transfer: see plan.ts) give exactly what attacking the subset would; randomised ones draw per batch.
 */
function cachedTransfer(
  cache: TransferCache,
  plan: Plan,
  eps: number,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  idx: tf.Tensor1D,
  start: number,
  seed: number,
  source: LogitsFn,
): tf.Tensor4D {
  const key = `${plan.label}|${eps}|${start}|${x.shape[0]}|${seed}`;
  let all = cache.get(key);
  if (!all) {
    all = tf.keep(perturb(plan.attack, source, x, y, eps, plan.params, seed));
    cache.set(key, all);
  }
  return tf.gather(all, idx) as tf.Tensor4D;
}

/** Check 8: points whose input gradient is all zero, or holds NaN or Inf. */
function gradientStats(target: LogitsFn, x: tf.Tensor4D, y: tf.Tensor1D): BatchOutcome['gradients'] {
  const [zero, nan, inf] = tf.tidy(() => {
    const { grad } = lossGradient(target, x, y);
    const count = (t: tf.Tensor) => tf.sum(tf.cast(tf.any(t, [1, 2, 3]), 'int32'));
    return [tf.sum(tf.cast(tf.all(tf.equal(grad, 0), [1, 2, 3]), 'int32')), count(tf.isNaN(grad)), count(tf.isInf(grad))];
  });
  return { points: x.shape[0], allZero: read(zero!)[0]!, withNaN: read(nan!)[0]!, withInf: read(inf!)[0]! };
}

function firstPoints(xa: tf.Tensor4D, ya: tf.Tensor1D, k: number): [tf.Tensor4D, tf.Tensor1D] {
  return [xa.slice([0, 0, 0, 0], [k, ...xa.shape.slice(1)] as [number, number, number, number]), ya.slice([0], [k])];
}

/** Check 1 for attacks whose sweep lacks eps 0: attack a few points at eps 0. */
function identityProbe(ctx: BatchContext, xa: tf.Tensor4D, ya: tf.Tensor1D, seed: number): CheckInputs['identity'] {
  const k = Math.min(IDENTITY_PROBE_POINTS, xa.shape[0]);
  const [xs, ys] = firstPoints(xa, ya, k);
  const out = ctx.plans
    .filter((p) => !p.epsilons.includes(0))
    .map((p) => {
      const adv = perturb(p.attack, p.kind === 'transfer' ? ctx.sources[p.sourceIndex ?? 0]! : ctx.target, xs, ys, 0, p.params, seed);
      const maxChange = read(tf.tidy(() => tf.max(tf.abs(tf.sub(adv, xs)))))[0]!;
      const fooled = countOnes(fooledBy(ctx.target, adv, ys) as Uint8Array);
      adv.dispose();
      return { label: p.label, maxChange, fooled, points: k };
    });
  tf.dispose([xs, ys]);
  return out;
}

function needsCollapseProbe(plans: Plan[]): boolean {
  return !plans.some((p) => p.kind === 'white-box' && p.iterative && p.epsilons.some((e) => e >= LARGE_EPS));
}

function collapseProbe(target: LogitsFn, xa: tf.Tensor4D, ya: tf.Tensor1D, seed: number): CheckInputs['collapse'] {
  const k = Math.min(COLLAPSE_PROBE.points, xa.shape[0]);
  const [xs, ys] = firstPoints(xa, ya, k);
  const adv = perturb('bim', target, xs, ys, COLLAPSE_PROBE.epsilon, COLLAPSE_PROBE.params, seed);
  const fooled = countOnes(fooledBy(target, adv, ys) as Uint8Array);
  tf.dispose([xs, ys, adv]);
  return { label: 'bim(steps=20) probe', epsilon: COLLAPSE_PROBE.epsilon, robust: k - fooled, points: k };
}
