// The evaluation result: JSON-serialisable, the single source the benchmark report is
// derived from. Accuracies are fractions in [0, 1]; "points" are evaluated test images.

/** A proportion with its Wilson 95% interval. */
export interface Accuracy {
  /** Points counted as correct / robust. */
  correct: number;
  /** Denominator: N for clean and robust accuracy, clean-correct points for conditional. */
  n: number;
  accuracy: number;
  ci95: [number, number];
}

/** white-box: gradients of the target; transfer: computed on a source model; score-based: outputs only. */
export type AttackKind = 'white-box' | 'transfer' | 'score-based';

/** One attack at one epsilon. */
export interface EpsilonResult {
  epsilon: number;
  /** RobustBench/AutoAttack definition (default): correct and not fooled, over all N points. */
  robust: Accuracy;
  /** ART's definition: the same count over the clean-correct points only. */
  conditionalRobust: Accuracy;
  /** Share of attacked (clean-correct) points the attack fooled. */
  successRate: number;
  /** Points actually attacked (clean mistakes are not attacked: they are non-robust already). */
  attacked: number;
  /** Attack time, including the target's forward pass on the results. */
  seconds: number;
  imagesPerSecond: number;
  /** Largest |x' - x| over all points (must be <= epsilon). */
  maxPerturbation: number;
  /** Points whose result left the ball or [0, 1], or held NaN/Inf (must be 0). */
  invalidPoints: number;
  /** Ensembles (autoattack): robust accuracy after each member in order (cumulative, as AutoAttack reports). */
  members?: Array<{ attack: string; robust: Accuracy }>;
}

export interface AttackResult {
  /** Display name, e.g. `pgd`, `transfer:pgd from cifar10/...`. */
  label: string;
  /** Registered attack name. */
  attack: string;
  kind: AttackKind;
  norm: 'linf';
  /** Parameters as used, defaults filled in. */
  params: Record<string, number | boolean | string | undefined>;
  /** The source model's name, for transfer attacks. */
  source?: string;
  /** True for runs the engine added for its sanity checks (FGSM reference). */
  auxiliary: boolean;
  results: EpsilonResult[];
}

/** Per-point worst case over several attacks at one epsilon. */
export interface WorstCaseResult {
  epsilon: number;
  /** Labels of the attacks combined (a point is robust only if every one fails on it). */
  attacks: string[];
  robust: Accuracy;
  conditionalRobust: Accuracy;
}

export type CheckId =
  | 'eps0-identity'
  | 'monotone-in-eps'
  | 'collapse-at-large-eps'
  | 'iterative-vs-single-step'
  | 'more-iterations'
  | 'white-box-vs-black-box'
  | 'random-noise-baseline'
  | 'input-gradients'
  | 'inside-ball-and-bounds'
  | 'logits-not-probabilities'
  | 'minimal-eps-reaches-chance';

/** One sanity check from the spec. A failed check is a flag shown in every report. */
export interface SanityCheck {
  id: CheckId;
  /** passed / failed, or skipped when the run had nothing to compare (message says why). */
  status: 'passed' | 'failed' | 'skipped';
  /** Plain words, with the numbers (e.g. "square beats bim by 12.4 percentage points at eps 0.0314: ..."). */
  message: string;
  /** The numbers behind the verdict, for tables and tests. */
  numbers: Record<string, number | string>;
}

export interface EvaluationResult {
  /** Toolkit version that produced it. */
  version: string;
  backend: string;
  model: string;
  /** Points evaluated, and the seed every attack used. */
  n: number;
  seed: number;
  batch: number;
  numClasses: number;
  inputShape: [number, number, number];
  clean: Accuracy;
  attacks: AttackResult[];
  /** Per epsilon shared by two or more requested attacks. */
  worstCase: WorstCaseResult[];
  /**
   * Random +-eps sign noise per epsilon (check 7 and the noise row): `accuracy` is the worst
   * case over the draws (a point counts only if every draw leaves it correct), `mean` the
   * mean accuracy of the draws.
   */
  noise: Array<{ epsilon: number; accuracy: Accuracy; mean: number; draws: Accuracy[] }>;
  /** Input gradients of the loss at the clean points (check 8). */
  gradients: { points: number; allZero: number; withNaN: number; withInf: number };
  checks: SanityCheck[];
  /** The failed checks (a subset of `checks`), for the report's flag column. */
  flags: SanityCheck[];
  /**
   * Minimal epsilon per test point (FAB-T as a minimal-norm attack), when requested: 0 for
   * clean mistakes, null where no adversarial example was found.
   */
  minimalEpsilon?: { attack: string; params: Record<string, unknown>; perPoint: Array<number | null> };
  /** What each row measures: gradient masking, noise fragility or robustness (see verdicts.ts). */
  verdict: ModelVerdict;
  /**
   * Per point 0/1 strings, when `keepPerPoint`: clean correctness, robustness per
   * `label@epsilon`, and the noise worst case per epsilon.
   */
  perPoint?: { clean: string; robust: Record<string, string>; noise: Record<string, string> };
  seconds: number;
}

/** What one requested attack at one epsilon measures on this model. */
export interface AttackVerdict {
  label: string;
  attack: string;
  kind: AttackKind;
  iterative: boolean;
  epsilon: number;
  /**
   * measures-robustness: a valid upper bound; masked: a white-box row its gradients mislead
   * (weaker than noise, a black-box attack or more effort); noise-fragile: noise alone breaks
   * the model; no-stronger-than-noise: a black-box row that adds nothing to noise.
   */
  verdict: 'measures-robustness' | 'masked' | 'noise-fragile' | 'no-stronger-than-noise';
  reason: string;
}

export interface ModelVerdict {
  /** gradient-masking: iterative white-box rows or the gradient checks fail; noise-fragile; robustness-measured. */
  label: 'gradient-masking' | 'noise-fragile' | 'robustness-measured';
  reason: string;
  noiseFragileEpsilons: number[];
  /** The rows that measure robustness, as "label at eps e". */
  measuring: string[];
  rows: AttackVerdict[];
}
