// One JSON result per model, in RobustBench's spirit: every table, plot and CSV row of a
// report is derived from these files. Per-point outcomes (base64 bitsets, see
// src/eval/bits.ts) are kept so that every comparison between models can be paired.
import { summarizeMinimalEpsilons, type MinimalEpsilonSummary } from './minimal-epsilon.js';
import type { SaturationResult } from '../src/eval/saturation.js';
import { BOUNDED_MAGNITUDES, parseOperatorId } from '../src/ops/options.js';
import { parseZooId, type TrainingRecipe } from '../models/zoo/index.js';
import { accuracy, countOnes, encodeBits, worstCaseBits, type Accuracy, type AttackKind, type EvaluationResult, type ModelVerdict, type SanityCheck } from '../src/eval/index.js';

export type { Accuracy, SanityCheck };

export const MODEL_RESULT_SCHEMA = 'dcnet-robustness/model-result@2';

export type AttackMode = 'white-box' | 'transfer' | 'score-based' | 'noise';

export interface AttackRow {
  attack: string;
  /** The engine's label, unique within a model (two settings of one attack differ here). */
  label: string;
  mode: AttackMode;
  /** Model the adversarial examples were computed on (transfer only). */
  source?: string;
  /** Transfer from the second source, a model of the other operator family (absent: the independent source). */
  sourceRole?: 'other-family';
  params: Record<string, unknown>;
  epsilon: number;
  /** RobustBench: correct and not fooled, over all n test points. Noise: worst case over the draws. */
  robust: Accuracy;
  /** ART: not fooled, over the clean-correct test points only. */
  conditional: Accuracy;
  /** Per test point, 1 = robust (base64 bitset of n bits). */
  perPoint: string;
  imagesPerSecond?: number;
  /** Ensembles (autoattack): robust accuracy after each member, cumulative. */
  members?: Array<{ attack: string; robust: Accuracy }>;
  /** Noise rows: the accuracy of each draw, and their mean. */
  draws?: Accuracy[];
  mean?: number;
}

export type Family = 'baseline' | 'bounded' | 'unbounded';

export interface WorstCaseRow {
  mode: AttackMode | 'all';
  epsilon: number;
  robust: Accuracy;
  perPoint: string;
}

export interface ModelResult {
  schema: typeof MODEL_RESULT_SCHEMA;
  model: {
    id: string;
    dataset: string;
    architecture: string;
    operator: string;
    family: Family;
    training: string;
    seed: number;
    train?: TrainSummary;
  };
  evaluation: {
    n: number;
    seed: number;
    backend: string;
    toolkitVersion: string;
    wallSeconds: number;
    clean: Accuracy;
    /** Per test point, 1 = clean-correct (base64 bitset). */
    cleanPerPoint: string;
  };
  results: AttackRow[];
  /** Per point: robust only if every attack of that mode (and epsilon) fails on it. */
  worstCase: WorstCaseRow[];
  /** The evaluation engine's sanity checks (passed, failed or skipped, with their numbers). */
  sanity: SanityCheck[];
  /** What each row measures: gradient masking, noise fragility or robustness. */
  verdict: ModelVerdict;
  /** Minimal epsilon per test point (FAB-T, minimal norm) and its summary, when measured. */
  minimalEpsilon?: MinimalEpsilonSummary & { attack: string; params: Record<string, unknown>; perPoint: Array<number | null> };
  /** Decoupled models: per layer, the share of input patches past the radius, clean and under attack. */
  saturation?: SaturationResult;
  /** The wide pass: cheap attacks (and the noise baseline) on more test points than `evaluation.n`. */
  wide?: { n: number; clean: Accuracy; cleanPerPoint: string; results: AttackRow[] };
}

export interface TrainSummary {
  epochs?: number;
  wallSeconds?: number;
  imagesPerSecond?: number;
  testAccuracy?: number;
  reused?: boolean;
  eps?: number;
  /** The training recipe from the model's manifest (for "how this run differs from the paper"). */
  recipe?: TrainingRecipe;
}

const NOISE_ATTACK = 'noise';

/** The engine's result in the report's per-model form (the engine ran with keepPerPoint). */
export function toModelResult(r: EvaluationResult, ids: { model: string; source?: string; otherSource?: string }, train: TrainSummary | undefined, wallSeconds: number): ModelResult {
  const zid = parseZooId(ids.model);
  const perPoint = r.perPoint;
  if (!perPoint) throw new Error('evaluate() was called without keepPerPoint: no per-point outcomes.');
  const bits = (s: string) => Uint8Array.from(s, (ch) => (ch === '1' ? 1 : 0));
  const cleanK = r.clean.correct;
  const attackRows: AttackRow[] = r.attacks
    .filter((a) => !a.auxiliary)
    .flatMap((a) =>
      a.results.map((e) => ({
        attack: a.attack,
        label: a.label,
        mode: a.kind,
        ...(a.kind === 'transfer' && (a.source ?? ids.source) ? { source: a.source ?? ids.source } : {}),
        ...(a.kind === 'transfer' && ids.otherSource !== undefined && a.source === ids.otherSource ? { sourceRole: 'other-family' as const } : {}),
        params: a.params as Record<string, unknown>,
        epsilon: e.epsilon,
        robust: e.robust,
        conditional: e.conditionalRobust,
        perPoint: encodeBits(bits(perPoint.robust[`${a.label}@${e.epsilon}`]!)),
        imagesPerSecond: e.imagesPerSecond,
        ...(e.members ? { members: e.members } : {}),
      })),
    );
  const noiseRows: AttackRow[] = r.noise.map((z) => ({
    attack: NOISE_ATTACK,
    label: `noise(draws=${z.draws.length})`,
    mode: 'noise',
    params: { draws: z.draws.length },
    epsilon: z.epsilon,
    robust: z.accuracy,
    conditional: accuracy(z.accuracy.correct, cleanK),
    perPoint: encodeBits(bits(perPoint.noise[String(z.epsilon)]!)),
    draws: z.draws,
    mean: z.mean,
  }));
  const runsOf = (mode?: AttackKind) =>
    attackRows.filter((a) => !mode || a.mode === mode).map((a) => ({ epsilon: a.epsilon, robust: bits(perPoint.robust[`${a.label}@${a.epsilon}`]!) }));
  // Per epsilon, robust only where every run fails (one run: that run itself).
  const worstOf = (mode: AttackMode | 'all', runs: ReturnType<typeof runsOf>, epsilons: number[]): WorstCaseRow[] =>
    epsilons.map((epsilon) => {
      const flags = worstCaseBits(runs, epsilon, r.n);
      return { mode, epsilon, robust: accuracy(countOnes(flags), r.n), perPoint: encodeBits(flags) };
    });
  const epsilonsOf = (runs: ReturnType<typeof runsOf>) => [...new Set(runs.map((x) => x.epsilon))].sort((a, b) => a - b);
  const white = runsOf('white-box');
  const transfer = runsOf('transfer');
  return {
    schema: MODEL_RESULT_SCHEMA,
    model: {
      id: ids.model,
      dataset: zid.dataset,
      architecture: zid.architecture,
      operator: zid.operator,
      family: familyOf(zid.operator),
      training: zid.training,
      seed: zid.seed,
      ...(train ? { train } : {}),
    },
    evaluation: { n: r.n, seed: r.seed, backend: r.backend, toolkitVersion: r.version, wallSeconds, clean: r.clean, cleanPerPoint: encodeBits(bits(perPoint.clean)) },
    results: [...attackRows, ...noiseRows],
    worstCase: [
      ...worstOf('white-box', white, epsilonsOf(white)),
      ...worstOf('transfer', transfer, epsilonsOf(transfer)),
      // Over every attack: at the epsilons two or more attacks share, as the engine reports.
      ...worstOf('all', runsOf(), r.worstCase.map((w) => w.epsilon)),
    ],
    sanity: r.checks,
    verdict: r.verdict,
    ...(r.minimalEpsilon ? { minimalEpsilon: { ...r.minimalEpsilon, ...summarizeMinimalEpsilons(r.minimalEpsilon.perPoint, r.numClasses, r.seed) } } : {}),
  };
}

export function familyOf(operator: string): Family {
  const { magnitude } = parseOperatorId(operator);
  if (magnitude === 'standard') return 'baseline';
  return (BOUNDED_MAGNITUDES as readonly string[]).includes(magnitude) ? 'bounded' : 'unbounded';
}

const MAGNITUDE_NAMES: Record<string, string> = {
  standard: 'baseline',
  sphere: 'SphereConv',
  ball: 'BallConv',
  tanh: 'TanhConv',
  linear: 'LinearConv',
  seg: 'SegConv',
  log: 'LogConv',
  mix: 'MixConv',
};

/** Column heading of an operator: the paper's name, with the angular activation if not cosine. */
export function operatorTitle(operator: string): string {
  const { magnitude, angular, weighting } = parseOperatorId(operator);
  const base = MAGNITUDE_NAMES[magnitude] ?? magnitude;
  if (magnitude === 'standard') return base;
  const parts = [base];
  if (angular !== 'cosine') parts.push(angular);
  if (weighting !== 'none') parts.push(`w-${weighting}`);
  return parts.join(' ');
}
