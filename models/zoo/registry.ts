// The zoo's registry: every model of the study is named by a readable, stable id
//   <dataset>/<architecture>/<operator>/<training>/s<seed>
// e.g. fashion-mnist/small-cnn/tanh-cosine/fgsm-at/s0.
import { DATASET_NAMES, type DatasetName } from '../../src/data/index.js';
import { allBasicOperators, operatorId, parseOperatorId } from '../../src/ops/options.js';
import { ARCHITECTURES, type Architecture } from '../architectures.js';
import { ZooError } from './errors.js';

export const TRAININGS = ['standard', 'fgsm-at', 'pgd-at'] as const;
export type Training = (typeof TRAININGS)[number];

export interface ZooId {
  dataset: DatasetName;
  architecture: Architecture;
  /** `standard` or a decoupled operator id such as `tanh-cosine` (see parseOperatorId). */
  operator: string;
  training: Training;
  seed: number;
}

/** The operators of the study: the baseline and every magnitude x angular pair. */
export const ZOO_OPERATORS: readonly string[] = [
  'standard',
  ...allBasicOperators().map((o) => operatorId({ ...o, weighting: 'none' })),
];

const FORMAT = '<dataset>/<architecture>/<operator>/<training>/s<seed>';
const EXAMPLE = 'fashion-mnist/small-cnn/tanh-cosine/fgsm-at/s0';

function oneOf<T extends string>(what: string, value: string, valid: readonly T[], id: string): T {
  if (!(valid as readonly string[]).includes(value)) {
    throw new ZooError(`Invalid model id '${id}': unknown ${what} '${value}'. Valid values: ${valid.join(', ')}.`);
  }
  return value as T;
}

/** Parses and validates an id; the error says which part is wrong and what is valid. */
export function parseZooId(id: string): ZooId {
  const parts = id.split('/');
  if (parts.length !== 5) {
    throw new ZooError(`Invalid model id '${id}': expected ${FORMAT}, e.g. ${EXAMPLE}.`);
  }
  const [dataset, architecture, operator, training, seedPart] = parts as [string, string, string, string, string];
  const seedMatch = /^s(0|[1-9][0-9]{0,8})$/.exec(seedPart);
  if (!seedMatch) {
    throw new ZooError(`Invalid model id '${id}': the seed part '${seedPart}' must be s followed by an integer, e.g. s0.`);
  }
  let canonicalOperator: string;
  try {
    canonicalOperator = operatorId(parseOperatorId(operator));
  } catch (err) {
    throw new ZooError(`Invalid model id '${id}': ${(err as Error).message}`);
  }
  if (canonicalOperator !== operator) {
    throw new ZooError(`Invalid model id '${id}': write the operator as '${canonicalOperator}'.`);
  }
  return {
    dataset: oneOf('dataset', dataset, DATASET_NAMES, id),
    architecture: oneOf('architecture', architecture, ARCHITECTURES, id),
    operator,
    training: oneOf('training', training, TRAININGS, id),
    seed: Number(seedMatch[1]),
  };
}

export function formatZooId(z: ZooId): string {
  return `${z.dataset}/${z.architecture}/${z.operator}/${z.training}/s${z.seed}`;
}

/** Whether `id` is a valid, canonically written model id. */
export function isZooId(id: string): boolean {
  try {
    parseZooId(id);
    return true;
  } catch {
    return false;
  }
}

export interface ZooEntryFilter {
  datasets?: readonly DatasetName[];
  architectures?: readonly Architecture[];
  operators?: readonly string[];
  trainings?: readonly Training[];
  seeds?: readonly number[];
}

/**
 * The registry's entries: the cross product of the filter's lists (default: every dataset,
 * architecture, study operator and training mode, seed 0), in a stable order.
 */
export function zooEntries(filter: ZooEntryFilter = {}): ZooId[] {
  const out: ZooId[] = [];
  for (const dataset of filter.datasets ?? DATASET_NAMES)
    for (const architecture of filter.architectures ?? ARCHITECTURES)
      for (const operator of filter.operators ?? ZOO_OPERATORS)
        for (const training of filter.trainings ?? TRAININGS)
          for (const seed of filter.seeds ?? [0]) {
            // Validates operator spellings given in the filter.
            out.push(parseZooId(formatZooId({ dataset, architecture, operator, training, seed })));
          }
  return out;
}
