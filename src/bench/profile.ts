// Benchmark profiles: which models to train and how to attack them. Built-in profiles are
// plain data; a profile can also be a JSON file (start from `dcnet bench --print-profile`).
import { UserError } from '../errors.js';
import { existsSync, readFileSync } from 'node:fs';
import { ARCHITECTURES } from '../../models/architectures.js';
import { parseOperatorId } from '../ops/options.js';
import { DATASET_NAMES } from '../data/index.js';
import { TRAININGS, type Training } from '../../models/zoo/index.js';

export { TRAININGS, type Training };

export class ProfileError extends UserError {
  override name = 'ProfileError';
}

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
    /** Minimal epsilon per test point: FAB-T parameters (minimal-norm mode); absent: not measured. */
    minimalEpsilon?: Record<string, unknown>;
    seed: number;
  };
}

const COSINE_OPERATORS = ['standard', 'sphere', 'ball', 'tanh', 'linear', 'seg', 'log', 'mix'].map((m) =>
  m === 'standard' ? m : `${m}-cosine`,
);

/** The README's main job: the whole study, small enough for 15 minutes on 2 CPU cores. */
const QUICK: BenchProfile = {
  name: 'quick',
  description:
    'Embedded Fashion-MNIST subset, small-cnn, baseline + bounded (sphere, ball, tanh) + unbounded ' +
    '(linear, seg, log, mix) operators with cosine angular activation, standard and FGSM-adversarial ' +
    'training; white-box FGSM, BIM, PGD; transfer from an independently trained baseline; Square.',
  dataset: 'fashion-mnist-embedded',
  architecture: 'small-cnn',
  operators: COSINE_OPERATORS,
  trainings: ['standard', 'fgsm-at'],
  seed: 0,
  train: { epochs: 2, batch: 128, lr: 1e-3, eps: 0.1 },
  evaluation: {
    n: 300,
    batch: 300,
    epsilons: [0.05, 0.1, 0.2],
    tableEpsilon: 0.1,
    whiteBox: [
      { name: 'fgsm' },
      { name: 'bim', params: { steps: 10, relStepSize: 0.25 } },
      { name: 'pgd', params: { steps: 10, relStepSize: 0.25, restarts: 1 } },
      // The effort check: the same PGD with 1.5x the steps and 2 restarts on the same test
      // points, at the table epsilon only (3x one PGD run there: about 9 s per model on 2 idle cores).
      { name: 'pgd', params: { steps: 15, relStepSize: 0.25, restarts: 2 }, epsilons: [0.1] },
      // AutoAttack's ensemble at the table epsilon, at a budget that fits the 15 minutes
      // (standard: 100 steps, 9 targets, 100 FAB steps, 5000 queries); each member runs only
      // on the test points the earlier ones left robust.
      { name: 'autoattack', params: { steps: 20, targets: 2, fabSteps: 10, queries: 60 }, epsilons: [0.1] },
    ],
    transfer: {
      source: { operator: 'standard', training: 'standard', seed: 1 },
      attacks: [{ name: 'fgsm' }, { name: 'bim', params: { steps: 10, relStepSize: 0.25 } }],
    },
    // Square is the costliest attack per test point on the CPU (a query costs about twice a
    // forward pass: ~0.25 s for 300 test points on an idle core): the table epsilon only, p_init
    // 0.8 as published, 60 queries; it stops once every test point is fooled.
    scoreBased: { name: 'square', params: { queries: 60 }, epsilons: [0.1] },
    // FAB-T minimal epsilons (an upper bound per test point): one target class, 10 steps.
    minimalEpsilon: { targets: 1, steps: 10 },
    seed: 0,
  },
};

/** The paper's setting on CIFAR-10; meant for a GPU (`--backend tensorflow-gpu`). */
const PAPER: BenchProfile = {
  name: 'paper',
  description:
    "CIFAR-10 (from --data DIR), the paper's plain CNN-9, baseline + bounded + unbounded operators, " +
    'standard and FGSM-adversarial training; epsilon 8/255, BIM 10 steps of eps/4.',
  dataset: 'cifar10',
  architecture: 'cnn9',
  operators: COSINE_OPERATORS,
  trainings: ['standard', 'fgsm-at'],
  seed: 0,
  train: { epochs: 40, batch: 128, lr: 1e-3, eps: 8 / 255 },
  evaluation: {
    n: 10000,
    batch: 500,
    epsilons: [2 / 255, 4 / 255, 8 / 255],
    tableEpsilon: 8 / 255,
    whiteBox: [
      { name: 'fgsm' },
      { name: 'bim', params: { steps: 10, relStepSize: 0.25 } },
      { name: 'pgd', params: { steps: 20, relStepSize: 0.1, restarts: 1 } },
      // The effort check at the table epsilon.
      { name: 'pgd', params: { steps: 50, relStepSize: 0.1, restarts: 5 }, epsilons: [8 / 255] },
      // AutoAttack, standard version, at the table epsilon.
      { name: 'autoattack', epsilons: [8 / 255] },
    ],
    transfer: {
      source: { operator: 'standard', training: 'standard', seed: 1 },
      attacks: [{ name: 'fgsm' }, { name: 'bim', params: { steps: 10, relStepSize: 0.25 } }],
    },
    scoreBased: { name: 'square', params: { queries: 1000 } },
    // FAB-T minimal epsilons at AutoAttack's FAB-T settings (9 targets, 100 steps).
    minimalEpsilon: {},
    seed: 0,
  },
};

/** A tiny profile for tests and smoke checks: two operators, one epoch, few points. */
const TINY: BenchProfile = {
  ...QUICK,
  name: 'tiny',
  description: 'Two tiny small-cnn models on 512 embedded images: an end-to-end smoke test.',
  operators: ['standard', 'tanh-cosine'],
  trainings: ['standard'],
  train: { epochs: 1, batch: 64, lr: 2e-3, eps: 0.1, limit: 512 },
  evaluation: {
    ...QUICK.evaluation,
    n: 64,
    batch: 64,
    epsilons: [0.1, 0.3],
    tableEpsilon: 0.1,
    whiteBox: [{ name: 'fgsm' }, { name: 'bim', params: { steps: 3, relStepSize: 0.5 } }],
    transfer: { source: { operator: 'standard', training: 'standard', seed: 1 }, attacks: [{ name: 'fgsm' }] },
    scoreBased: { name: 'square', params: { queries: 10 } },
  },
};

export const BUILTIN_PROFILES: Record<string, BenchProfile> = { quick: QUICK, paper: PAPER, tiny: TINY };

/** A built-in profile by name, or a JSON file; validated either way. */
export function loadProfile(nameOrPath: string): BenchProfile {
  const builtin = BUILTIN_PROFILES[nameOrPath];
  if (builtin) return structuredClone(builtin);
  if (!existsSync(nameOrPath)) {
    throw new ProfileError(
      `Unknown profile '${nameOrPath}': not a built-in profile (${Object.keys(BUILTIN_PROFILES).join(', ')}) ` +
        `and no such file. Start from \`dcnet bench --print-profile quick > my.json\`.`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(nameOrPath, 'utf8'));
  } catch (err) {
    throw new ProfileError(`Profile ${nameOrPath} is not valid JSON: ${(err as Error).message}`);
  }
  return validateProfile(parsed, nameOrPath);
}

function fail(where: string, what: string): never {
  throw new ProfileError(`Profile ${where}: ${what}`);
}

function isPositiveInt(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) > 0;
}

/** Checks every field a run depends on; the message names the field and what is allowed. */
export function validateProfile(input: unknown, where = '(inline)'): BenchProfile {
  if (typeof input !== 'object' || input === null) fail(where, 'must be a JSON object.');
  const p = input as BenchProfile;
  if (typeof p.name !== 'string' || !/^[A-Za-z0-9._-]+$/.test(p.name)) {
    fail(where, `'name' must be letters, digits, '.', '_' or '-' (it names the report folder).`);
  }
  if (!(DATASET_NAMES as readonly string[]).includes(p.dataset)) {
    fail(where, `'dataset' ${JSON.stringify(p.dataset)} is unknown. Valid values: ${DATASET_NAMES.join(', ')}.`);
  }
  if (!(ARCHITECTURES as readonly string[]).includes(p.architecture)) {
    fail(where, `'architecture' ${JSON.stringify(p.architecture)} is unknown. Valid values: ${ARCHITECTURES.join(', ')}.`);
  }
  if (!Array.isArray(p.operators) || p.operators.length === 0) fail(where, `'operators' must be a non-empty list.`);
  for (const op of p.operators) {
    try {
      parseOperatorId(op);
    } catch (err) {
      fail(where, `'operators': ${(err as Error).message}`);
    }
  }
  if (!Array.isArray(p.trainings) || p.trainings.length === 0) fail(where, `'trainings' must be a non-empty list.`);
  for (const t of p.trainings) {
    if (!(TRAININGS as readonly string[]).includes(t)) fail(where, `'trainings': '${t}' is unknown. Valid values: ${TRAININGS.join(', ')}.`);
  }
  if (!Number.isInteger(p.seed) || p.seed < 0) fail(where, `'seed' must be an integer >= 0.`);
  const t = p.train;
  if (!t || !isPositiveInt(t.epochs) || !isPositiveInt(t.batch) || !(t.lr > 0) || !(t.eps >= 0 && t.eps <= 1)) {
    fail(where, `'train' needs epochs and batch (positive integers), lr > 0 and eps in [0, 1].`);
  }
  const e = p.evaluation;
  if (!e || !isPositiveInt(e.n) || !isPositiveInt(e.batch)) fail(where, `'evaluation' needs n and batch (positive integers).`);
  if (!Array.isArray(e.epsilons) || e.epsilons.length === 0 || !e.epsilons.every((x) => x > 0 && x <= 1)) {
    fail(where, `'evaluation.epsilons' must be a list of Linf epsilons in (0, 1] on the [0, 1] pixel scale (8/255 = 0.0314, not 8).`);
  }
  if (!e.epsilons.includes(e.tableEpsilon)) fail(where, `'evaluation.tableEpsilon' must be one of 'evaluation.epsilons'.`);
  if (!Array.isArray(e.whiteBox) || e.whiteBox.some((a) => typeof a?.name !== 'string')) {
    fail(where, `'evaluation.whiteBox' must be a list of {name, params?}.`);
  }
  if (!e.transfer?.source || !Array.isArray(e.transfer.attacks)) fail(where, `'evaluation.transfer' needs source and attacks.`);
  if (!e.scoreBased || typeof e.scoreBased.name !== 'string') fail(where, `'evaluation.scoreBased' needs a name.`);
  for (const a of [...e.whiteBox, ...e.transfer.attacks, e.scoreBased]) {
    if (a.epsilons === undefined) continue;
    if (!Array.isArray(a.epsilons) || !a.epsilons.every((x) => x > 0 && x <= 1) || !a.epsilons.includes(e.tableEpsilon)) {
      fail(where, `'epsilons' of attack ${a.name} must be Linf epsilons in (0, 1] that include the table epsilon ${e.tableEpsilon}.`);
    }
  }
  return p;
}
