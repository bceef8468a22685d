// The training recipe: every setting of a training run, with documented defaults, validated
// and recorded in the checkpoint and the manifest.
import { OptionError } from '../../src/ops/options.js';
import type { DecoupledOptionsInput } from '../../src/ops/options.js';
import { datasetSpec } from '../../src/data/index.js';
import type { Training, ZooId } from './registry.js';
import { AUGMENTATIONS, type Augmentation } from './augment.js';

/** Operator options the architectures accept beyond the operator id. */
export type OperatorOptions = Pick<DecoupledOptionsInput, 'radius' | 'alpha' | 'beta' | 'k'> & {
  learnableRadius?: boolean;
};

export interface AdversarialRecipe {
  /** The attack from attacks/ that makes the training examples. */
  attack: 'fgsm' | 'pgd';
  /** Linf epsilon in [0, 1] pixel units. */
  epsilon: number;
  /** Share of each batch replaced by its adversarial version (Kurakin: 0.5, Madry: 1). */
  fraction: number;
  /** Loss weight of adversarial examples relative to clean ones (1: plain mean). */
  weight: number;
  /** PGD only: steps and absolute step size. */
  steps?: number;
  stepSize?: number;
}

export interface TrainingRecipe {
  optimizer: 'adam';
  learningRate: number;
  adamBeta1: number;
  adamBeta2: number;
  adamEpsilon: number;
  batchSize: number;
  epochs: number;
  /** Softmax cross-entropy on logits, with this label smoothing (0: none). */
  labelSmoothing: number;
  /** Decoupled models: project filters to unit norm every this many steps (0: never). */
  projectionPeriod: number;
  /** Training-time augmentation: crop-flip pads by reflection and crops (see augment.ts). */
  augmentation: Augmentation;
  /** Train and test examples used (the first N of each split; undefined: all). */
  trainLimit?: number;
  testLimit?: number;
  operatorOptions: OperatorOptions;
  adversarial?: AdversarialRecipe;
  /** How the examples are shuffled, for the record. */
  shuffle: 'seeded Fisher-Yates (mulberry32) per epoch';
}

export interface RecipeOverrides {
  epochs?: number;
  augmentation?: string;
  batchSize?: number;
  learningRate?: number;
  labelSmoothing?: number;
  projectionPeriod?: number;
  trainLimit?: number;
  testLimit?: number;
  operatorOptions?: OperatorOptions;
  /** Adversarial training: epsilon (default per dataset), fraction, weight, PGD steps/step size. */
  epsilon?: number;
  adversarialFraction?: number;
  adversarialWeight?: number;
  attackSteps?: number;
  attackStepSize?: number;
}

/**
 * Epochs by default. Measured: 12 on the embedded subset gives small-cnn 88.2% (see README).
 * The others are not yet validated against the targets on this CPU path.
 */
export const DEFAULT_EPOCHS: Record<string, number> = {
  'fashion-mnist': 6,
  'fashion-mnist-embedded': 12,
  mnist: 10,
  cifar10: 40,
};

/** PGD-AT defaults (Madry et al.): 10 steps of eps/4 from a random start. */
export const PGD_AT_STEPS = 10;
export const PGD_AT_REL_STEP = 0.25;

function check(name: string, value: number, ok: boolean, what: string): number {
  if (!ok || !Number.isFinite(value)) throw new OptionError(`Invalid ${name} ${value}: it must be ${what}.`);
  return value;
}
const posInt = (name: string, v: number): number => check(name, v, Number.isInteger(v) && v >= 1, 'a positive integer');
const positive = (name: string, v: number): number => check(name, v, v > 0, 'a number > 0');
const unit = (name: string, v: number, low: number): number =>
  check(name, v, v >= low && v <= 1, `a number in ${low === 0 ? '[0' : '(0'}, 1]`);

function augmentation(value: string): Augmentation {
  if (!(AUGMENTATIONS as readonly string[]).includes(value)) {
    throw new OptionError(`Invalid augmentation '${value}'. Valid values: ${AUGMENTATIONS.join(', ')}.`);
  }
  return value as Augmentation;
}

function adversarialRecipe(training: Training, dataset: string, o: RecipeOverrides): AdversarialRecipe | undefined {
  if (training === 'standard') {
    const flags = { epsilon: '--eps', adversarialFraction: '--adv-fraction', adversarialWeight: '--adv-weight', attackSteps: '--attack-steps', attackStepSize: '--attack-step-size' } as const;
    const given = (Object.keys(flags) as Array<keyof typeof flags>).filter((k) => o[k] !== undefined).map((k) => `${k} (${flags[k]})`);
    if (given.length) {
      throw new OptionError(
        `Option ${given.join(', ')} only applies to adversarial training (fgsm-at, pgd-at); the model id says 'standard'.`,
      );
    }
    return undefined;
  }
  const epsilon = o.epsilon ?? datasetSpec(dataset).defaultEpsilon;
  check('eps', epsilon, epsilon > 0 && epsilon <= 1, 'in (0, 1] (pixel units: write 8/255 as 0.0314)');
  const base = {
    epsilon,
    fraction: unit('adversarial fraction', o.adversarialFraction ?? (training === 'fgsm-at' ? 0.5 : 1), 1e-9),
    weight: positive('adversarial weight', o.adversarialWeight ?? 1),
  };
  if (training === 'fgsm-at') {
    if (o.attackSteps !== undefined || o.attackStepSize !== undefined) {
      throw new OptionError('Options attackSteps (--attack-steps) and attackStepSize (--attack-step-size) apply to pgd-at only; FGSM takes one step of eps.');
    }
    return { attack: 'fgsm', ...base };
  }
  const steps = posInt('attack steps', o.attackSteps ?? PGD_AT_STEPS);
  const stepSize = check('attack step size', o.attackStepSize ?? PGD_AT_REL_STEP * epsilon, (o.attackStepSize ?? 1) > 0, 'a number > 0');
  return { attack: 'pgd', ...base, steps, stepSize };
}

/** Fills every default for this model id and checks every value. */
export function resolveRecipe(id: ZooId, o: RecipeOverrides = {}): TrainingRecipe {
  const recipe: TrainingRecipe = {
    optimizer: 'adam',
    learningRate: positive('learning rate', o.learningRate ?? 1e-3),
    adamBeta1: 0.9,
    adamBeta2: 0.999,
    adamEpsilon: 1e-8,
    batchSize: posInt('batch size', o.batchSize ?? 128),
    epochs: posInt('epochs', o.epochs ?? DEFAULT_EPOCHS[id.dataset] ?? 15),
    labelSmoothing: check('label smoothing', o.labelSmoothing ?? 0, (o.labelSmoothing ?? 0) >= 0 && (o.labelSmoothing ?? 0) < 1, 'in [0, 1)'),
    projectionPeriod: check(
      'projection period',
      o.projectionPeriod ?? 100,
      Number.isInteger(o.projectionPeriod ?? 100) && (o.projectionPeriod ?? 100) >= 0,
      'an integer >= 0',
    ),
    augmentation: augmentation(o.augmentation ?? (id.dataset === 'cifar10' ? 'crop-flip' : 'none')),
    operatorOptions: { ...(o.operatorOptions ?? {}) },
    shuffle: 'seeded Fisher-Yates (mulberry32) per epoch',
  };
  if (o.trainLimit !== undefined) recipe.trainLimit = posInt('train limit', o.trainLimit);
  if (o.testLimit !== undefined) recipe.testLimit = posInt('test limit', o.testLimit);
  if (id.operator === 'standard' && Object.keys(recipe.operatorOptions).length) {
    throw new OptionError(
      `Operator options (${Object.keys(recipe.operatorOptions).join(', ')}) apply to decoupled operators only; the model id says 'standard'.`,
    );
  }
  const adversarial = adversarialRecipe(id.training, id.dataset, o);
  if (adversarial) recipe.adversarial = adversarial;
  return recipe;
}

/**
 * The settings a resumed run must share with its checkpoint (everything but the number of
 * epochs, which may grow: the shuffle stream does not depend on it).
 */
export function recipeMismatch(stored: TrainingRecipe, now: TrainingRecipe): string | undefined {
  // Recipes written before the augmentation setting existed trained without augmentation.
  const saved: TrainingRecipe = { ...stored, augmentation: stored.augmentation ?? 'none' };
  const keys = new Set([...Object.keys(saved), ...Object.keys(now)]);
  const differing = [...keys].filter(
    (k) => k !== 'epochs' && JSON.stringify((saved as never)[k]) !== JSON.stringify((now as never)[k]),
  );
  if (!differing.length) return undefined;
  return differing
    .map((k) => `${k}: checkpoint ${JSON.stringify((saved as never)[k])}, now ${JSON.stringify((now as never)[k])}`)
    .join('; ');
}
