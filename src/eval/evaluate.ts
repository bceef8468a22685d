// The evaluation engine: runs attacks over a dataset in batches and turns per-point
// outcomes into the field's accuracies, worst cases and sanity checks.
import { tf } from '../tf.js';
import { VERSION } from '../version.js';
import {
  AttackError,
  checkEpsilon,
  getAttack,
  lossGradient,
  logitsOf,
  misclassified,
  perturb,
  resolveParams,
  type LogitsFn,
  type ParamValues,
} from '../../attacks/index.js';
import { runChecks, type CheckInputs, type RunRecord } from './checks.js';
import { checkInputRange, checkLabels } from './inputs.js';
import type { AttackKind, AttackResult, EvaluationResult } from './types.js';
import { accuracy, countOnes } from './wilson.js';
import { worstCase } from './aggregate.js';

export interface AttackRequest {
  /** Registered attack name (fgsm, bim, pgd, mi-fgsm, square). */
  name: string;
  /** Linf epsilons in [0, 1] pixel units. */
  epsilons: number[];
  params?: Record<string, unknown>;
  /** Compute the examples on `source` and evaluate them on the model (black-box transfer). */
  transfer?: boolean;
}

export interface ModelRef {
  model?: tf.LayersModel;
  logits?: LogitsFn;
  /** Name used in the result (zoo id or directory). */
  name?: string;
}

export interface Progress {
  phase: 'attack' | 'checks';
  label: string;
  epsilon?: number;
  pointsDone: number;
  pointsTotal: number;
}

export interface EvaluateOptions extends ModelRef {
  /** Images [N, H, W, C] flattened, values in [0, 1]. */
  images: Float32Array;
  labels: Int32Array;
  shape: [number, number, number];
  attacks: AttackRequest[];
  /** The source model for transfer attacks (an independently trained model). */
  source?: ModelRef;
  /** Evaluate the first n points (default: all). */
  n?: number;
  /** Points per batch (default 100). Randomised attacks depend on seed and batch size. */
  batch?: number;
  seed?: number;
  /** Run the sanity-check probes (eps-0 identity, large-eps collapse, FGSM reference, noise). Default true. */
  checks?: boolean;
  /** Continue (with a flag) when the model returns probabilities instead of refusing. */
  allowProbabilities?: boolean;
  /** Keep per-point outcomes in the result. */
  keepPerPoint?: boolean;
  onProgress?: (p: Progress) => void;
}

interface Plan {
  label: string;
  attack: string;
  kind: AttackKind;
  iterative: boolean;
  auxiliary: boolean;
  params: ParamValues;
  epsilons: number[];
  runs: Array<{ robust: Uint8Array; seconds: number; attacked: number; maxPerturbation: number; invalidPoints: number }>;
}

/** Large-eps probe (spec check 3): BIM travelling 2 eps in 20 steps at eps 0.5. */
const COLLAPSE_PROBE = { epsilon: 0.5, params: { steps: 20, relStepSize: 0.1 }, points: 32 };
const IDENTITY_PROBE_POINTS = 8;
const LARGE_EPS = 0.3;

function resolveModel(ref: ModelRef, what: string): LogitsFn {
  const m = ref.model ?? ref.logits;
  if (!m) throw new AttackError(`No ${what} given: pass a tf.LayersModel (model) or a logits function (logits).`);
  return logitsOf(m);
}

function planFor(req: AttackRequest, sourceName: string | undefined, hasSource: boolean): Plan {
  const def = getAttack(req.name);
  const params = resolveParams(def, req.params);
  if (!Array.isArray(req.epsilons) || req.epsilons.length === 0) throw new AttackError(`Attack '${def.name}': give at least one epsilon.`);
  req.epsilons.forEach(checkEpsilon);
  if (req.transfer && !hasSource) throw new AttackError(`Attack '${def.name}' is a transfer attack but no source model was given.`);
  const kind: AttackKind = req.transfer ? 'transfer' : def.needs === 'outputs' ? 'score-based' : 'white-box';
  const given = Object.entries(req.params ?? {}).map(([k, v]) => `${k}=${v}`);
  const base = given.length ? `${def.name}(${given.join(',')})` : def.name;
  return {
    label: req.transfer ? `transfer:${base} from ${sourceName ?? 'source'}` : base,
    attack: def.name,
    kind,
    iterative: def.iterative,
    auxiliary: false,
    params,
    epsilons: [...new Set(req.epsilons)].sort((a, b) => a - b),
    runs: [],
  };
}

function buildPlans(opts: EvaluateOptions, withChecks: boolean): Plan[] {
  const plans = opts.attacks.map((r) => planFor(r, opts.source?.name, !!opts.source));
  const labels = plans.map((p) => p.label);
  const dup = labels.find((l, i) => labels.indexOf(l) !== i);
  if (dup) throw new AttackError(`Attack '${dup}' is requested twice with the same settings.`);
  // An FGSM reference for check 4 when iterative white-box attacks run without one.
  const iterEps = plans.filter((p) => p.kind === 'white-box' && p.iterative).flatMap((p) => p.epsilons.filter((e) => e > 0));
  const fgsmEps = new Set(plans.filter((p) => p.kind === 'white-box' && p.attack === 'fgsm').flatMap((p) => p.epsilons));
  const missing = [...new Set(iterEps)].filter((e) => !fgsmEps.has(e)).sort((a, b) => a - b);
  if (withChecks && missing.length) {
    plans.push({ ...planFor({ name: 'fgsm', epsilons: missing }, undefined, false), label: 'fgsm (reference)', auxiliary: true });
  }
  for (const p of plans) p.runs = p.epsilons.map(() => ({ robust: new Uint8Array(0), seconds: 0, attacked: 0, maxPerturbation: 0, invalidPoints: 0 }));
  return plans;
}

/** A deterministic per-batch seed from the run's seed. */
const batchSeed = (seed: number, start: number) => (Math.imul(seed + 1, 0x9e3779b1) ^ start) >>> 0;

const read = (t: tf.Tensor): Float32Array | Int32Array | Uint8Array => {
  const v = t.dataSync() as Float32Array | Int32Array | Uint8Array;
  t.dispose();
  return v;
};

/** Per-point validity of adversarial examples: inside the ball, in [0, 1], finite. */
function validity(adv: tf.Tensor4D, x: tf.Tensor4D, eps: number): { maxPerturbation: number; invalid: number } {
  const [maxPert, invalid] = tf.tidy(() => {
    const d = tf.abs(tf.sub(adv, x));
    const bad = tf.logicalOr(
      tf.logicalOr(tf.greater(d, eps + 1e-6), tf.logicalOr(tf.less(adv, 0), tf.greater(adv, 1))),
      tf.logicalNot(tf.isFinite(adv)),
    );
    return [tf.max(d), tf.sum(tf.cast(tf.any(bad, [1, 2, 3]), 'int32'))];
  });
  return { maxPerturbation: read(maxPert!)[0]!, invalid: read(invalid!)[0]! };
}

/** Runs every plan over the data and the checks over the outcomes. */
export async function evaluate(opts: EvaluateOptions): Promise<EvaluationResult> {
  const t0 = performance.now();
  const target = resolveModel(opts, 'model');
  const source = opts.source ? resolveModel(opts.source, 'source model') : undefined;
  if (source && opts.source && (opts.source.model ?? opts.source.logits) === (opts.model ?? opts.logits)) {
    throw new AttackError('The transfer source is the target model itself: use an independently trained model.');
  }
  const withChecks = opts.checks ?? true;
  const seed = opts.seed ?? 0;
  const batch = opts.batch ?? 100;
  if (!Number.isInteger(batch) || batch < 1) throw new AttackError(`Batch size must be a positive integer, got ${batch}.`);
  const [h, w, c] = opts.shape;
  const d = h * w * c;
  const available = opts.labels.length;
  if (opts.images.length !== available * d) {
    throw new AttackError(`Images hold ${opts.images.length} values, expected ${available} x ${h}x${w}x${c} = ${available * d}.`);
  }
  const n = Math.min(opts.n ?? available, available);
  if (!(n > 0)) throw new AttackError('No points to evaluate (n is 0 or the dataset is empty).');
  checkInputRange(opts.images, n * d);
  const plans = buildPlans(opts, withChecks);
  for (const p of plans) for (const r of p.runs) r.robust = new Uint8Array(n);
  const noiseEps = withChecks ? [...new Set(plans.filter((p) => p.kind === 'white-box' && !p.auxiliary).flatMap((p) => p.epsilons))].filter((e) => e > 0) : [];
  const noise = new Map(noiseEps.map((e) => [e, new Uint8Array(n)]));
  const clean = new Uint8Array(n);
  const gradients = { points: 0, allZero: 0, withNaN: 0, withInf: 0 };
  const probabilityRows = { rows: 0, probabilityLike: 0 };
  const identity: CheckInputs['identity'] = [];
  let collapseProbe: CheckInputs['collapse'];
  let numClasses = 0;

  for (let start = 0; start < n; start += batch) {
    const m = Math.min(batch, n - start);
    const bSeed = batchSeed(seed, start);
    const x = tf.tensor4d(opts.images.subarray(start * d, (start + m) * d), [m, h, w, c]);
    const y = tf.tensor1d(opts.labels.subarray(start, start + m), 'int32');
    const [pred, probLike] = tf.tidy(() => {
      const z = target(x);
      numClasses = z.shape[1];
      const nonNeg = tf.all(tf.greaterEqual(z, 0), 1);
      const sumsToOne = tf.less(tf.abs(tf.sub(tf.sum(z, 1), 1)), 1e-3);
      return [tf.argMax(z, 1), tf.sum(tf.cast(tf.logicalAnd(nonNeg, sumsToOne), 'int32'))];
    });
    if (start === 0) checkLabels(opts.labels, n, numClasses);
    probabilityRows.rows += m;
    probabilityRows.probabilityLike += read(probLike!)[0]!;
    if (start === 0 && probabilityRows.probabilityLike === m && m > 1 && !opts.allowProbabilities) {
      tf.dispose([x, y, pred!]);
      throw new AttackError(
        "The model's outputs look like probabilities (every row is >= 0 and sums to 1). Attacks need logits: " +
          'remove the final softmax (or pass allowProbabilities / --allow-probabilities to get flagged numbers anyway).',
      );
    }
    const predicted = read(pred!);
    const correctIdx: number[] = [];
    for (let j = 0; j < m; j++) {
      clean[start + j] = predicted[j] === opts.labels[start + j] ? 1 : 0;
      if (clean[start + j]) correctIdx.push(j);
    }
    if (withChecks) {
      const [zero, nan, inf] = tf.tidy(() => {
        const { grad, fooled } = lossGradient(target, x, y);
        fooled.dispose();
        const cnt = (t: tf.Tensor) => tf.sum(tf.cast(tf.any(t, [1, 2, 3]), 'int32'));
        return [tf.sum(tf.cast(tf.all(tf.equal(grad, 0), [1, 2, 3]), 'int32')), cnt(tf.isNaN(grad)), cnt(tf.isInf(grad))];
      });
      gradients.points += m;
      gradients.allZero += read(zero!)[0]!;
      gradients.withNaN += read(nan!)[0]!;
      gradients.withInf += read(inf!)[0]!;
    }
    if (correctIdx.length) {
      const idx = tf.tensor1d(correctIdx, 'int32');
      const xa = tf.gather(x, idx) as tf.Tensor4D;
      const ya = tf.gather(y, idx) as tf.Tensor1D;
      for (const plan of plans) {
        const on = plan.kind === 'transfer' ? source! : target;
        plan.epsilons.forEach((eps, e) => {
          const run = plan.runs[e]!;
          const tStart = performance.now();
          const adv = perturb(plan.attack, on, xa, ya, eps, plan.params, bSeed);
          const fooled = read(tf.tidy(() => misclassified(target(adv), ya)));
          run.seconds += (performance.now() - tStart) / 1000;
          const v = validity(adv, xa, eps);
          adv.dispose();
          run.maxPerturbation = Math.max(run.maxPerturbation, v.maxPerturbation);
          run.invalidPoints += v.invalid;
          run.attacked += correctIdx.length;
          correctIdx.forEach((j, k) => (run.robust[start + j] = fooled[k] ? 0 : 1));
          opts.onProgress?.({ phase: 'attack', label: plan.label, epsilon: eps, pointsDone: start + m, pointsTotal: n });
        });
      }
      for (const [eps, flags] of noise) {
        const fooled = read(
          tf.tidy(() => {
            const signs = tf.sign(tf.randomUniform(xa.shape, -1, 1, 'float32', bSeed));
            return misclassified(target(tf.clipByValue(tf.add(xa, tf.mul(signs, eps)), 0, 1) as tf.Tensor4D), ya);
          }),
        );
        correctIdx.forEach((j, k) => (flags[start + j] = fooled[k] ? 0 : 1));
      }
      if (withChecks && start === 0) {
        identity.push(...identityProbe(plans, target, source, xa, ya, bSeed));
        collapseProbe = needsCollapseProbe(plans) ? runCollapseProbe(target, xa, ya, bSeed) : undefined;
        opts.onProgress?.({ phase: 'checks', label: 'probes', pointsDone: start + m, pointsTotal: n });
      }
      tf.dispose([idx, xa, ya]);
    }
    tf.dispose([x, y]);
    // Let progress output, timers and worker messages through between batches.
    await new Promise((r) => setImmediate(r));
  }

  const runs: RunRecord[] = plans.flatMap((p) =>
    p.epsilons.map((eps, e) => ({ label: p.label, attack: p.attack, kind: p.kind, iterative: p.iterative, auxiliary: p.auxiliary, params: p.params, epsilon: eps, ...p.runs[e]! })),
  );
  const checks = runChecks({
    numClasses,
    clean,
    runs,
    noise,
    gradients,
    identity,
    collapse: collapseProbe ?? strongestLargeEps(runs),
    probabilityRows,
    tolerance: Math.max(1, Math.ceil(0.01 * n)),
  });
  const cleanK = countOnes(clean);
  const attacks: AttackResult[] = plans.map((p) => ({
    label: p.label,
    attack: p.attack,
    kind: p.kind,
    norm: 'linf',
    params: p.params,
    ...(p.kind === 'transfer' ? { source: opts.source?.name ?? 'source' } : {}),
    auxiliary: p.auxiliary,
    results: p.epsilons.map((eps, e) => {
      const r = p.runs[e]!;
      const k = countOnes(r.robust);
      return {
        epsilon: eps,
        robust: accuracy(k, n),
        conditionalRobust: accuracy(k, cleanK),
        successRate: r.attacked ? (r.attacked - k) / r.attacked : 0,
        attacked: r.attacked,
        seconds: r.seconds,
        imagesPerSecond: r.seconds > 0 ? r.attacked / r.seconds : 0,
        maxPerturbation: r.maxPerturbation,
        invalidPoints: r.invalidPoints,
      };
    }),
  }));
  const result: EvaluationResult = {
    version: VERSION,
    backend: tf.getBackend(),
    model: opts.name ?? 'model',
    n,
    seed,
    batch,
    numClasses,
    inputShape: [h, w, c],
    clean: accuracy(cleanK, n),
    attacks,
    worstCase: worstCase(runs.filter((r) => !r.auxiliary), n, cleanK),
    noise: [...noise].map(([epsilon, flags]) => ({ epsilon, accuracy: accuracy(countOnes(flags), n) })),
    gradients,
    checks,
    flags: checks.filter((c) => c.status === 'failed'),
    seconds: (performance.now() - t0) / 1000,
  };
  if (opts.keepPerPoint) {
    const bits = (a: Uint8Array) => Array.from(a, (v) => (v ? '1' : '0')).join('');
    result.perPoint = { clean: bits(clean), robust: Object.fromEntries(runs.map((r) => [`${r.label}@${r.epsilon}`, bits(r.robust)])) };
  }
  return result;
}

/** Check 1 for attacks whose sweep lacks eps 0: attack a few points at eps 0. */
function identityProbe(plans: Plan[], target: LogitsFn, source: LogitsFn | undefined, xa: tf.Tensor4D, ya: tf.Tensor1D, seed: number): CheckInputs['identity'] {
  const k = Math.min(IDENTITY_PROBE_POINTS, xa.shape[0]);
  const xs = xa.slice([0, 0, 0, 0], [k, ...xa.shape.slice(1)] as [number, number, number, number]);
  const ys = ya.slice([0], [k]);
  const out = plans
    .filter((p) => !p.epsilons.includes(0))
    .map((p) => {
      const adv = perturb(p.attack, p.kind === 'transfer' ? source! : target, xs, ys, 0, p.params, seed);
      const maxChange = read(tf.tidy(() => tf.max(tf.abs(tf.sub(adv, xs)))))[0]!;
      const fooled = countOnes(read(tf.tidy(() => misclassified(target(adv), ys))) as Uint8Array);
      adv.dispose();
      return { label: p.label, maxChange, fooled, points: k };
    });
  tf.dispose([xs, ys]);
  return out;
}

function needsCollapseProbe(plans: Plan[]): boolean {
  return !plans.some((p) => p.kind === 'white-box' && p.iterative && p.epsilons.some((e) => e >= LARGE_EPS));
}

function runCollapseProbe(target: LogitsFn, xa: tf.Tensor4D, ya: tf.Tensor1D, seed: number): CheckInputs['collapse'] {
  const k = Math.min(COLLAPSE_PROBE.points, xa.shape[0]);
  const xs = xa.slice([0, 0, 0, 0], [k, ...xa.shape.slice(1)] as [number, number, number, number]);
  const ys = ya.slice([0], [k]);
  const adv = perturb('bim', target, xs, ys, COLLAPSE_PROBE.epsilon, COLLAPSE_PROBE.params, seed);
  const fooled = countOnes(read(tf.tidy(() => misclassified(target(adv), ys))) as Uint8Array);
  tf.dispose([xs, ys, adv]);
  return { label: 'bim(steps=20) probe', epsilon: COLLAPSE_PROBE.epsilon, robust: k - fooled, points: k };
}

/** Check 3 from the requested runs: the strongest iterative white-box run at eps >= 0.3. */
function strongestLargeEps(runs: RunRecord[]): CheckInputs['collapse'] {
  const large = runs.filter((r) => r.kind === 'white-box' && r.iterative && r.epsilon >= LARGE_EPS);
  if (!large.length) return undefined;
  const best = large.reduce((a, b) => (countOnes(b.robust) < countOnes(a.robust) ? b : a));
  // Over all points: clean mistakes count as non-robust, as chance level assumes.
  return { label: best.label, epsilon: best.epsilon, robust: countOnes(best.robust), points: best.robust.length };
}
