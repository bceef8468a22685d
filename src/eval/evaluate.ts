// The evaluation engine: runs attacks over a dataset in batches and turns per-point
// outcomes into the field's accuracies, worst cases and sanity checks.
import { tf } from '../tf.js';
import { VERSION } from '../version.js';
import { engineBackendLabel } from '../backend.js';
import { AttackError, pluginOfAttack } from '../../attacks/index.js';
import { worstCase } from './aggregate.js';
import { evaluateBatch, LARGE_EPS, type BatchOutcome, type TransferCache } from './batch.js';
import { dataHash, openCheckpoint, saveBatch } from './checkpoint.js';
import { runChecks, type CheckInputs, type RunRecord } from './checks.js';
import { checkInputRange, checkLabels } from './inputs.js';
import { MINIMAL_EPSILON_ATTACK, reachesChance } from './minimal-epsilon.js';
import { buildPlans, NOISE_DRAWS, noiseEpsilons, resolveModel, type AttackRequest, type ModelRef } from './plan.js';
import type { AttackResult, EpsilonResult, EvaluationResult } from './types.js';
import { verdicts } from './verdicts.js';
import { accuracy, countOnes } from './wilson.js';

export type { AttackRequest, ModelRef } from './plan.js';

export interface Progress {
  /** The attack and epsilon just finished on the current batch; absent at a batch's end. */
  label?: string;
  epsilon?: number;
  /** Points in finished batches, and the total. */
  pointsDone: number;
  pointsTotal: number;
  /** Batches taken from the checkpoint instead of being recomputed. */
  resumedPoints: number;
}

export interface EvaluateOptions extends ModelRef {
  /** Images [N, H, W, C] flattened, values in [0, 1]. */
  images: Float32Array;
  labels: Int32Array;
  shape: [number, number, number];
  attacks: AttackRequest[];
  /** The source model for transfer attacks (an independently trained model). */
  source?: ModelRef;
  /**
   * More sources (requests name one by `sourceIndex`: 1 is the first), each with its own
   * transfer cache: e.g. a model of the other operator family beside an independent baseline.
   */
  extraSources?: Array<ModelRef & { transferCache?: TransferCache }>;
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
  /** Told what was skipped when reading the checkpoint (torn lines of a killed run). */
  onWarning?(message: string): void;
  /**
   * Minimal epsilon per test point from FAB-T as a minimal-norm attack (these are its
   * parameters; {} for AutoAttack's), with the check that the accuracy curve reaches chance.
   */
  minimalEpsilon?: Record<string, unknown>;
  /** JSON-lines file: finished batches are saved there and a rerun resumes from it. */
  checkpoint?: string;
  /**
   * Transfer examples computed on the source, kept for the next evaluation with the same
   * source, data, seed and batch size (a benchmark evaluates many targets against one source).
   */
  transferCache?: TransferCache;
  onProgress?: (p: Progress) => void;
}

/** Runs every attack over the data and the sanity checks over the outcomes. */
export async function evaluate(opts: EvaluateOptions): Promise<EvaluationResult> {
  const t0 = performance.now();
  const target = resolveModel(opts, 'model');
  const sourceRefs = [opts.source, ...(opts.extraSources ?? [])];
  const sources = sourceRefs.map((r, i) => (r ? resolveModel(r, i === 0 ? 'source model' : `source model ${i}`) : undefined));
  for (const r of sourceRefs) {
    if (r && (r.model ?? r.logits) === (opts.model ?? opts.logits)) {
      throw new AttackError('The transfer source is the target model itself: use an independently trained model.');
    }
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
  if (!(n > 0)) throw new AttackError('No test points to evaluate (n is 0 or the dataset is empty).');
  checkInputRange(opts.images, n * d);
  // One forward on one image: the class count, so bad labels stop the run before any attack.
  const numClasses = tf.tidy(() => target(tf.tensor4d(opts.images.subarray(0, d), [1, h, w, c])).shape[1]);
  checkLabels(opts.labels, n, numClasses);
  const plans = buildPlans(opts.attacks, sourceRefs, withChecks);
  const noiseEps = noiseEpsilons(plans, withChecks);
  const allowProbabilities = opts.allowProbabilities ?? false;
  // A plugin attack's code is part of what must match: an edited plugin starts over.
  const pluginCode = [...new Set(opts.attacks.map((a) => pluginOfAttack(a.name)).filter((p) => p !== undefined))].map((p) => `${p.name}@${p.sha256}`);
  const saved = opts.checkpoint
    ? openCheckpoint(opts.checkpoint, {
        version: VERSION,
        backend: engineBackendLabel(),
        model: opts.name ?? 'model',
        source: opts.source?.name ?? null,
        ...(opts.extraSources?.length ? { extraSources: opts.extraSources.map((r) => r.name ?? null) } : {}),
        data: dataHash(opts.images.subarray(0, n * d), opts.labels.subarray(0, n)),
        shape: opts.shape,
        n,
        batch,
        seed,
        withChecks,
        allowProbabilities,
        plans,
        noiseEps,
        noiseDraws: NOISE_DRAWS,
        ...(pluginCode.length ? { plugins: pluginCode } : {}),
        minimalEpsilon: opts.minimalEpsilon ?? null,
      }, opts.onWarning)
    : new Map<number, BatchOutcome>();

  const outcomes: BatchOutcome[] = [];
  let resumedPoints = 0;
  for (let start = 0; start < n; start += batch) {
    const m = Math.min(batch, n - start);
    let outcome = saved.get(start);
    if (outcome && outcome.m === m) {
      resumedPoints += m;
    } else {
      outcome = evaluateBatch(
        {
          target,
          sources,
          plans,
          noiseEpsilons: noiseEps,
          noiseDraws: NOISE_DRAWS,
          withChecks,
          allowProbabilities,
          images: opts.images,
          labels: opts.labels,
          shape: opts.shape,
          seed,
          transferCaches: [opts.transferCache, ...(opts.extraSources ?? []).map((r) => r.transferCache)],
          runProbes: !outcomes.some((o) => o.identity),
          ...(opts.minimalEpsilon ? { minimalEpsilon: opts.minimalEpsilon } : {}),
          onRun: (p, eps) => opts.onProgress?.({ label: p.label, epsilon: eps, pointsDone: start, pointsTotal: n, resumedPoints }),
        },
        start,
        m,
      );
      if (opts.checkpoint) saveBatch(opts.checkpoint, outcome);
    }
    outcomes.push(outcome);
    opts.onProgress?.({ pointsDone: start + m, pointsTotal: n, resumedPoints });
    // Let progress output, timers and worker messages through between batches.
    await new Promise((r) => setImmediate(r));
  }
  return assemble(opts, { n, batch, seed, plans, noiseEps, outcomes, seconds: (performance.now() - t0) / 1000 });
}

/** Per-point 0/1 array over all batches from one '0'/'1' string per batch. */
function concatBits(outcomes: BatchOutcome[], pick: (o: BatchOutcome) => string): Uint8Array {
  const out = new Uint8Array(outcomes.reduce((s, o) => s + o.m, 0));
  for (const o of outcomes) {
    const bits = pick(o);
    for (let j = 0; j < o.m; j++) out[o.start + j] = bits.charCodeAt(j) === 49 ? 1 : 0;
  }
  return out;
}

interface Collected {
  n: number;
  batch: number;
  seed: number;
  plans: ReturnType<typeof buildPlans>;
  noiseEps: number[];
  outcomes: BatchOutcome[];
  seconds: number;
}

function assemble(opts: EvaluateOptions, col: Collected): EvaluationResult {
  const { n, plans, outcomes } = col;
  const first = outcomes[0]!;
  const clean = concatBits(outcomes, (o) => o.clean);
  const cleanK = countOnes(clean);
  const sum = (f: (o: BatchOutcome) => number) => outcomes.reduce((s, o) => s + f(o), 0);
  let r = 0;
  const runs: RunRecord[] = [];
  const attacks: AttackResult[] = plans.map((p) => ({
    label: p.label,
    attack: p.attack,
    kind: p.kind,
    norm: 'linf',
    params: p.params,
    ...(p.kind === 'transfer' ? { source: (p.sourceIndex ? opts.extraSources?.[p.sourceIndex - 1] : opts.source)?.name ?? 'source' } : {}),
    auxiliary: p.auxiliary,
    results: p.epsilons.map((epsilon) => {
      const i = r++;
      const robust = concatBits(outcomes, (o) => o.runs[i]!.robust);
      const stat = (f: (x: BatchOutcome['runs'][number]) => number) => outcomes.map((o) => f(o.runs[i]!));
      const attacked = stat((x) => x.attacked).reduce((a, b) => a + b, 0);
      const seconds = stat((x) => x.seconds).reduce((a, b) => a + b, 0);
      const maxPerturbation = Math.max(...stat((x) => x.maxPerturbation));
      const invalidPoints = stat((x) => x.invalidPoints).reduce((a, b) => a + b, 0);
      runs.push({ label: p.label, attack: p.attack, kind: p.kind, iterative: p.iterative, auxiliary: p.auxiliary, params: p.params, epsilon, robust, invalidPoints, maxPerturbation });
      const k = countOnes(robust);
      return {
        epsilon,
        robust: accuracy(k, n),
        conditionalRobust: accuracy(k, cleanK),
        successRate: attacked ? (attacked - k) / attacked : 0,
        attacked,
        seconds,
        imagesPerSecond: seconds > 0 ? attacked / seconds : 0,
        maxPerturbation,
        invalidPoints,
        ...membersOf(outcomes, i, n),
      };
    }),
  }));
  // Per epsilon: each draw's outcomes, and their per-point worst case (robust under every draw).
  const draws = col.noiseEps.map((_, i) => Array.from({ length: NOISE_DRAWS }, (_, k) => concatBits(outcomes, (o) => o.noise[i]![k]!)));
  const noise = new Map(col.noiseEps.map((e, i) => [e, draws[i]!.reduce((all, d) => all.map((v, j) => v & d[j]!))]));
  const gradients = {
    points: sum((o) => o.gradients.points),
    allZero: sum((o) => o.gradients.allZero),
    withNaN: sum((o) => o.gradients.withNaN),
    withInf: sum((o) => o.gradients.withInf),
  };
  const checkInputs: CheckInputs = {
    numClasses: first.numClasses,
    clean,
    runs,
    noise,
    gradients,
    identity: outcomes.find((o) => o.identity)?.identity ?? [],
    collapse: outcomes.find((o) => o.collapse)?.collapse ?? strongestLargeEps(runs),
    probabilityRows: { rows: n, probabilityLike: sum((o) => o.probabilityLike) },
    tolerance: Math.max(1, Math.ceil(0.01 * n)),
  };
  const minimalEps = opts.minimalEpsilon ? outcomes.flatMap((o) => o.minimalEpsilon ?? []) : undefined;
  const checks = runChecks(checkInputs);
  if (minimalEps) checks.push(reachesChance(minimalEps, first.numClasses));
  const result: EvaluationResult = {
    version: VERSION,
    backend: engineBackendLabel(),
    model: opts.name ?? 'model',
    n,
    seed: col.seed,
    batch: col.batch,
    numClasses: first.numClasses,
    inputShape: opts.shape,
    clean: accuracy(cleanK, n),
    attacks,
    worstCase: worstCase(runs.filter((x) => !x.auxiliary), n, cleanK),
    noise: col.noiseEps.map((epsilon, i) => {
      const each = draws[i]!.map((d) => accuracy(countOnes(d), n));
      return { epsilon, accuracy: accuracy(countOnes(noise.get(epsilon)!), n), mean: each.reduce((a, b) => a + b.accuracy, 0) / each.length, draws: each };
    }),
    gradients,
    checks,
    flags: checks.filter((x) => x.status === 'failed'),
    verdict: verdicts(checkInputs, checks),
    seconds: col.seconds,
  };
  if (minimalEps) result.minimalEpsilon = { attack: MINIMAL_EPSILON_ATTACK, params: opts.minimalEpsilon!, perPoint: minimalEps };
  if (opts.keepPerPoint) {
    const bits = (a: Uint8Array) => Array.from(a, (v) => (v ? '1' : '0')).join('');
    result.perPoint = {
      clean: bits(clean),
      robust: Object.fromEntries(runs.map((x) => [`${x.label}@${x.epsilon}`, bits(x.robust)])),
      noise: Object.fromEntries([...noise].map(([e, flags]) => [String(e), bits(flags)])),
    };
  }
  return result;
}

/** An ensemble's per-member cumulative robust accuracy over all batches (if it has members). */
function membersOf(outcomes: BatchOutcome[], i: number, n: number): Pick<EpsilonResult, 'members'> {
  const first = outcomes.find((o) => o.runs[i]!.members)?.runs[i]!.members;
  if (!first) return {};
  return {
    members: first.map((mb, k) => ({
      attack: mb.attack,
      // A batch without clean-correct points ran nothing: its points count as not robust.
      robust: accuracy(countOnes(concatBits(outcomes, (o) => o.runs[i]!.members?.[k]?.robust ?? o.runs[i]!.robust)), n),
    })),
  };
}

/** Check 3 from the requested runs: the strongest iterative white-box run at eps >= 0.3. */
function strongestLargeEps(runs: RunRecord[]): CheckInputs['collapse'] {
  const large = runs.filter((r) => r.kind === 'white-box' && r.iterative && r.epsilon >= LARGE_EPS);
  if (!large.length) return undefined;
  const best = large.reduce((a, b) => (countOnes(b.robust) < countOnes(a.robust) ? b : a));
  // Over all points: clean mistakes count as non-robust, as chance level assumes.
  return { label: best.label, epsilon: best.epsilon, robust: countOnes(best.robust), points: best.robust.length };
}
