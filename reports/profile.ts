// A benchmark profile: which models to train and how to attack them. Defined here because
// every report is derived from it; the bench validates it (src/bench/profile.ts).
import type { Training } from '../models/zoo/index.js';

/** One attack as the evaluation engine runs it. */
export interface AttackSpec {
  /** Registered attack name (fgsm, bim, pgd, mifgsm, square). */
  name: string;
  /** Attack parameters (steps, relStepSize, restarts, queries, ...). */
  params?: Record<string, unknown>;
  /** Epsilons of this attack, if not all of `evaluation.epsilons` (must include the table epsilon). */
  epsilons?: number[];
}

export interface BenchProfile {
  name: string;
  description: string;
  /** Dataset name (fashion-mnist-embedded, fashion-mnist, mnist, cifar10) and optional folder. */
  dataset: string;
  data?: string;
  architecture: string;
  /** Operator ids: standard, then bounded, then unbounded (order is kept in tables). */
  operators: string[];
  trainings: Training[];
  /** Seed of the target models. */
  seed: number;
  train: {
    epochs: number;
    batch: number;
    lr: number;
    /** Adversarial-training epsilon (Linf, [0,1] scale). */
    eps: number;
    /** Train on the first `limit` training images only (all when unset). */
    limit?: number;
  };
  evaluation: {
    /** Test points attacked (the first n of the test split). */
    n: number;
    batch: number;
    epsilons: number[];
    /** The epsilon the paper-layout tables show (one of `epsilons`). */
    tableEpsilon: number;
    whiteBox: AttackSpec[];
    /** Black-box transfer: adversarial examples from an independently trained source. */
    transfer: {
      source: { operator: string; training: Training; seed: number };
      attacks: AttackSpec[];
    };
    /** Score-based black-box check against gradient masking (Square). */
    scoreBased: AttackSpec;
    seed: number;
  };
}
