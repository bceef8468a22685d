// Options of the decoupled operators: names, defaults (the DCNet authors' code) and validation.
import { UserError } from '../errors.js';

export const MAGNITUDES = ['sphere', 'ball', 'tanh', 'linear', 'seg', 'log', 'mix'] as const;
export type Magnitude = (typeof MAGNITUDES)[number];
/** `standard` is the plain inner product (a convolution), so baselines share the same code. */
export const OPERATOR_MAGNITUDES = ['standard', ...MAGNITUDES] as const;
export type OperatorMagnitude = (typeof OPERATOR_MAGNITUDES)[number];

export const ANGULARS = ['linear', 'cosine', 'sigmoid', 'sqcosine'] as const;
export type Angular = (typeof ANGULARS)[number];

export const WEIGHTINGS = ['none', 'linear', 'nonlinear-a', 'nonlinear-b'] as const;
export type Weighting = (typeof WEIGHTINGS)[number];

export const PADDINGS = ['same', 'valid'] as const;
export type Padding = (typeof PADDINGS)[number];

/** Bounded magnitudes saturate at alpha; unbounded ones grow with the patch norm. */
export const BOUNDED_MAGNITUDES: readonly Magnitude[] = ['sphere', 'ball', 'tanh'];
export const UNBOUNDED_MAGNITUDES: readonly Magnitude[] = ['linear', 'seg', 'log', 'mix'];

/** Magnitudes (and weightings) whose formula uses the radius rho. */
const RADIUS_MAGNITUDES: readonly OperatorMagnitude[] = ['ball', 'tanh', 'seg'];

export interface DecoupledOptions {
  magnitude: OperatorMagnitude;
  angular: Angular;
  weighting: Weighting;
  /** Operator radius rho (> 0). */
  radius: number;
  alpha: number;
  /** SegConv's slope above the radius and MixConv's log weight. */
  beta: number;
  /** Sigmoid angular activation's steepness. */
  k: number;
  strides: [number, number];
  padding: Padding;
}

export type DecoupledOptionsInput = Partial<Omit<DecoupledOptions, 'strides'>> & {
  strides?: number | [number, number];
};

export const DEFAULT_OPTIONS: Readonly<DecoupledOptions> = Object.freeze({
  magnitude: 'tanh',
  angular: 'cosine',
  weighting: 'none',
  radius: 1,
  alpha: 1,
  beta: 0.5,
  k: 0.3,
  strides: [1, 1] as [number, number],
  padding: 'same',
});

export class OptionError extends UserError {
  override name = 'OptionError';
}

function oneOf<T extends string>(option: string, value: unknown, valid: readonly T[]): T {
  if (typeof value !== 'string' || !(valid as readonly string[]).includes(value)) {
    throw new OptionError(
      `Invalid ${option} '${String(value)}'. Valid values: ${valid.join(', ')}.`,
    );
  }
  return value as T;
}

function positive(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new OptionError(`Invalid ${option} ${String(value)}: it must be a finite number > 0.`);
  }
  return value;
}

function nonNegative(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new OptionError(`Invalid ${option} ${String(value)}: it must be a finite number >= 0.`);
  }
  return value;
}

function strides(value: unknown): [number, number] {
  const pair = typeof value === 'number' ? [value, value] : value;
  if (
    !Array.isArray(pair) ||
    pair.length !== 2 ||
    !pair.every((s) => Number.isInteger(s) && (s as number) >= 1)
  ) {
    throw new OptionError(
      `Invalid strides ${JSON.stringify(value)}: give a positive integer or a pair of them.`,
    );
  }
  return [pair[0] as number, pair[1] as number];
}

/** Fills defaults and checks every option; throws an OptionError naming the bad option. */
export function resolveOptions(input: DecoupledOptionsInput = {}): DecoupledOptions {
  const known = new Set([...Object.keys(DEFAULT_OPTIONS)]);
  for (const key of Object.keys(input)) {
    if (!known.has(key)) {
      throw new OptionError(
        `Unknown operator option '${key}'. Valid options: ${[...known].join(', ')}.`,
      );
    }
  }
  const o = { ...DEFAULT_OPTIONS, ...stripUndefined(input) };
  const resolved: DecoupledOptions = {
    magnitude: oneOf('magnitude', o.magnitude, OPERATOR_MAGNITUDES),
    angular: oneOf('angular', o.angular, ANGULARS),
    weighting: oneOf('weighting', o.weighting, WEIGHTINGS),
    radius: positive('radius', o.radius),
    alpha: positive('alpha', o.alpha),
    beta: nonNegative('beta', o.beta),
    k: positive('k', o.k),
    strides: strides(o.strides),
    padding: oneOf('padding', o.padding, PADDINGS),
  };
  if (resolved.magnitude === 'standard' && resolved.weighting !== 'none') {
    throw new OptionError(
      `Invalid weighting '${resolved.weighting}' for magnitude 'standard': the plain convolution ` +
        `already weights by |w|. Use weighting 'none', or a decoupled magnitude (${MAGNITUDES.join(', ')}).`,
    );
  }
  return resolved;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Whether the operator's formula depends on the radius (so a learnable radius means something). */
export function usesRadius(o: Pick<DecoupledOptions, 'magnitude' | 'weighting'>): boolean {
  return (
    RADIUS_MAGNITUDES.includes(o.magnitude) ||
    o.weighting === 'nonlinear-a' ||
    o.weighting === 'nonlinear-b'
  );
}

/** Stable readable operator id, e.g. `tanh-cosine`, `standard`, `ball-sigmoid-linear`. */
export function operatorId(o: Pick<DecoupledOptions, 'magnitude' | 'angular' | 'weighting'>): string {
  if (o.magnitude === 'standard') return 'standard';
  const base = `${o.magnitude}-${o.angular}`;
  return o.weighting === 'none' ? base : `${base}-w${o.weighting}`;
}

/** Parses an operator id back into options (inverse of operatorId). */
export function parseOperatorId(id: string): Pick<DecoupledOptions, 'magnitude' | 'angular' | 'weighting'> {
  if (id === 'standard') return { magnitude: 'standard', angular: 'cosine', weighting: 'none' };
  const m = /^([a-z]+)-([a-z]+)(?:-w(linear|nonlinear-a|nonlinear-b))?$/.exec(id);
  const valid = `standard or <magnitude>-<angular>[-w<weighting>] with magnitude in ${MAGNITUDES.join('|')}, angular in ${ANGULARS.join('|')}, weighting in linear|nonlinear-a|nonlinear-b (e.g. tanh-cosine)`;
  if (!m) throw new OptionError(`Invalid operator '${id}'. Expected ${valid}.`);
  return {
    magnitude: oneOf('magnitude', m[1], MAGNITUDES),
    angular: oneOf('angular', m[2], ANGULARS),
    weighting: (m[3] as Weighting | undefined) ?? 'none',
  };
}

/** Every magnitude x angular pair (the 28 basic operators). */
export function allBasicOperators(): Array<{ magnitude: Magnitude; angular: Angular }> {
  return MAGNITUDES.flatMap((magnitude) => ANGULARS.map((angular) => ({ magnitude, angular })));
}
