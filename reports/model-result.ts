// One JSON result per model, in RobustBench's spirit: every table, plot and CSV row of a
// report is derived from these files.
import { BOUNDED_MAGNITUDES, parseOperatorId } from '../src/ops/options.js';
import type { Accuracy, SanityCheck } from '../src/eval/index.js';

export type { Accuracy, SanityCheck };

export const MODEL_RESULT_SCHEMA = 'dcnet-robustness/model-result@1';

export type AttackMode = 'white-box' | 'transfer' | 'score-based' | 'noise';

export interface AttackRow {
  attack: string;
  mode: AttackMode;
  /** Model the adversarial examples were computed on (transfer only). */
  source?: string;
  params: Record<string, unknown>;
  epsilon: number;
  /** RobustBench: correct and not fooled, over all n points. */
  robust: Accuracy;
  /** ART: not fooled, over the clean-correct points only. */
  conditional: Accuracy;
  imagesPerSecond?: number;
}

export type Family = 'baseline' | 'bounded' | 'unbounded';

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
    train?: { epochs?: number; wallSeconds?: number; imagesPerSecond?: number; testAccuracy?: number; reused?: boolean; eps?: number };
  };
  evaluation: {
    n: number;
    seed: number;
    backend: string;
    toolkitVersion: string;
    wallSeconds: number;
    clean: Accuracy;
  };
  results: AttackRow[];
  /** Per point: robust only if every attack of that mode (and epsilon) fails on it. */
  worstCase: Array<{ mode: AttackMode | 'all'; epsilon: number; robust: Accuracy }>;
  /** The evaluation engine's sanity checks (passed, failed or skipped, with their numbers). */
  sanity: SanityCheck[];
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
