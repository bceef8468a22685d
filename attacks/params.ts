// Validation of attack parameters against each attack's declared specs.
import { LOSS_NAMES } from './losses.js';
import { AttackError, type AttackDefinition, type ParamSpec, type ParamValue, type ParamValues } from './types.js';

/** One value against its spec: type, finiteness, integer-ness, range. */
export function checkValue(attack: string, key: string, spec: ParamSpec, value: unknown): ParamValue {
  if (spec.type === 'boolean') {
    if (typeof value !== 'boolean') {
      throw new AttackError(`Attack '${attack}': parameter '${key}' must be true or false, got ${JSON.stringify(value)}.`);
    }
    return value;
  }
  if (spec.type === 'choice') {
    if (typeof value !== 'string' || !spec.choices?.includes(value)) {
      throw new AttackError(`Attack '${attack}': parameter '${key}' must be one of ${spec.choices?.join(', ')}, got ${JSON.stringify(value)}.`);
    }
    return value;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new AttackError(`Attack '${attack}': parameter '${key}' must be a finite number, got ${JSON.stringify(value)}.`);
  }
  if (spec.type === 'int' && !Number.isInteger(value)) {
    throw new AttackError(`Attack '${attack}': parameter '${key}' must be an integer, got ${value}.`);
  }
  if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
    throw new AttackError(
      `Attack '${attack}': parameter '${key}' = ${value} is out of range [${spec.min ?? '-inf'}, ${spec.max ?? 'inf'}] (${spec.help}).`,
    );
  }
  return value;
}

/** Fills defaults, refuses unknown names and bad values, runs the attack's own checks. */
export function resolveParams(def: AttackDefinition, given: Record<string, unknown> = {}): ParamValues {
  const known = Object.keys(def.params);
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) {
      throw new AttackError(
        `Attack '${def.name}' has no parameter '${key}'. Valid parameters: ${known.length ? known.join(', ') : '(none)'}.`,
      );
    }
  }
  const out: ParamValues = {};
  for (const [key, spec] of Object.entries(def.params)) {
    const value = given[key] ?? spec.default;
    out[key] = value === undefined ? undefined : checkValue(def.name, key, spec, value);
  }
  def.validate?.(out);
  return out;
}

/** Parameters shared by the iterative gradient attacks: steps, step size, early stop. */
export function iterationParams(stepsDefault: number, relDefault: number): Record<string, ParamSpec> {
  return {
    steps: { type: 'int', default: stepsDefault, min: 1, max: 100000, help: 'number of gradient steps' },
    ...stepSizeParams(relDefault),
    earlyStop: {
      type: 'boolean',
      default: true,
      help: 'stop moving a point once it is misclassified (false: full-length steps, e.g. for adversarial training)',
    },
    ...compactParam(),
  };
}

/** Step-size parameters (foolbox's abs/rel step size). */
export function stepSizeParams(relDefault: number): Record<string, ParamSpec> {
  return {
    stepSize: { type: 'number', min: 0, max: 1, help: 'absolute step size in [0, 1] pixel units; overrides relStepSize' },
    relStepSize: { type: 'number', default: relDefault, min: 0, max: 10, help: 'step size as a multiple of epsilon' },
  };
}

/** Resolves the absolute step size for one epsilon. */
export function resolveStepSize(params: ParamValues, epsilon: number): number {
  if (typeof params.stepSize === 'number') return params.stepSize;
  if (typeof params.relStepSize === 'number') return params.relStepSize * epsilon;
  throw new AttackError('This attack needs stepSize or relStepSize.');
}

/** Early stop by compaction: fooled points leave the batch, so later steps cost less. */
export function compactParam(): Record<string, ParamSpec> {
  return {
    compact: {
      type: 'boolean',
      default: true,
      help: 'with early stop, remove fooled points from the batch (reads one mask back per step; same results, less compute)',
    },
  };
}

/** The loss a gradient attack maximises. */
export function lossParam(): Record<string, ParamSpec> {
  return { loss: { type: 'choice', default: 'ce', choices: LOSS_NAMES, help: 'loss to maximise: ce (cross-entropy), cw (logit margin), dlr' } };
}

/** Target classes of targeted attacks (APGD-T, FAB-T): the 2nd to (k+1)-th most likely classes. */
export function targetsParam(): Record<string, ParamSpec> {
  return { targets: { type: 'int', default: 9, min: 1, max: 1000, help: 'target classes tried per point (AutoAttack: 9, capped at classes - 1)' } };
}
