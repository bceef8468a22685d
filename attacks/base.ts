// The attack base: validates a request, runs one attack at one epsilon (`perturb`) or over
// an epsilon sweep with success flags (`runAttack`). Attacks only implement `run`.
import { tf } from '../src/tf.js';
import { createContext } from './context.js';
import { resolveParams } from './params.js';
import { getAttack } from './registry.js';
import { misclassified, projectLinf } from './tensor-ops.js';
import { AttackError, type AttackDefinition, type LogitsFn, type ParamValues } from './types.js';

/** A registered attack's name, or a definition (e.g. a plugin's, before it is registered). */
export type AttackRef = string | AttackDefinition;

const definitionOf = (attack: AttackRef): AttackDefinition => (typeof attack === 'string' ? getAttack(attack) : attack);

export const DEFAULT_SEED = 0;

/** Refuses epsilons that are not in [0, 1] pixel units (e.g. 8 meant as 8/255). */
export function checkEpsilon(epsilon: number): void {
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon < 0) {
    throw new AttackError(`Epsilon must be a finite number >= 0, got ${epsilon}.`);
  }
  if (epsilon > 1) {
    throw new AttackError(
      `Epsilon ${epsilon} is above 1: Linf epsilons are in [0, 1] pixel units. ` +
        `It looks like the 0-255 scale: write ${epsilon}/255 (= ${(epsilon / 255).toFixed(5)}) instead.`,
    );
  }
}

function checkBatch(x: tf.Tensor4D, labels: tf.Tensor1D): void {
  if (x.rank !== 4) throw new AttackError(`Inputs must be a 4-D batch [N, H, W, C], got shape [${x.shape}].`);
  if (labels.rank !== 1 || labels.shape[0] !== x.shape[0]) {
    throw new AttackError(`Labels must be 1-D with one label per input (${x.shape[0]}), got shape [${labels.shape}].`);
  }
}

/**
 * One attack at one epsilon on one batch: synchronous, no readback to JS. The result is
 * inside the Linf ball around x and inside [0, 1]. Epsilon 0 is attacked for real (no
 * shortcut), so "eps 0 returns the input" checks the whole path.
 * Inputs are not range-checked here (that needs a readback): `evaluate` does it.
 */
export function perturb(
  attack: AttackRef,
  logits: LogitsFn,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  epsilon: number,
  params?: Record<string, unknown>,
  seed: number = DEFAULT_SEED,
  pointIds?: readonly number[],
): tf.Tensor4D {
  return perturbWithMembers(attack, logits, x, labels, epsilon, params, seed, pointIds).adv;
}

function checkPointIds(x: tf.Tensor4D, pointIds?: readonly number[]): void {
  if (pointIds && pointIds.length !== x.shape[0]) {
    throw new AttackError(`Point ids must give one index per input (${x.shape[0]}), got ${pointIds.length}.`);
  }
}

/** Validates one request; returns the parameters with defaults. */
function validated(def: AttackDefinition, x: tf.Tensor4D, labels: tf.Tensor1D, epsilon: number, params?: Record<string, unknown>): ParamValues {
  const resolved = resolveParams(def, params);
  checkEpsilon(epsilon);
  checkBatch(x, labels);
  return resolved;
}

/** What a context is made of: logits, x, labels, epsilon, params, seed, point ids. */
type ContextArgs = Parameters<typeof createContext>;

/**
 * The attack's own `run` with nothing around it: no projection, no tidy. The contract kit
 * checks this output, so an attack that leaves the ball or leaks tensors is caught rather
 * than silently repaired by the base.
 */
export function runUnguarded(def: AttackDefinition, ...context: ContextArgs): tf.Tensor4D {
  return def.run(createContext(...context));
}

/** `perturb` with parameters already resolved (the sweep resolves them once). */
function perturbResolved(def: AttackDefinition, ...context: ContextArgs): tf.Tensor4D {
  const [, x, , epsilon] = context;
  // The tidy and the final projection are a safety net; the contract holds `run` to both.
  return tf.tidy(() => projectLinf(runUnguarded(def, ...context), x, epsilon));
}

/**
 * `perturb` that also returns an ensemble's per-member cumulative success (per point: fooled
 * by that member or an earlier one); attacks that are not ensembles give no members.
 */
export function perturbWithMembers(
  attack: AttackRef,
  logits: LogitsFn,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  epsilon: number,
  params?: Record<string, unknown>,
  seed: number = DEFAULT_SEED,
  pointIds?: readonly number[],
): { adv: tf.Tensor4D; members?: Array<{ name: string; fooled: Uint8Array }> } {
  const def = definitionOf(attack);
  const resolved = validated(def, x, labels, epsilon, params);
  checkPointIds(x, pointIds);
  if (!def.runMembers) return { adv: perturbResolved(def, logits, x, labels, epsilon, resolved, seed, pointIds) };
  // In a tidy, as perturb's plain path: whatever a member leaves behind is freed here.
  return tf.tidy(() => {
    const out = def.runMembers!(createContext(logits, x, labels, epsilon, resolved, seed, pointIds));
    return { adv: projectLinf(out.adv, x, epsilon), members: out.members };
  });
}

export interface SweepOptions {
  params?: Record<string, unknown>;
  seed?: number;
  /** Each point's index in the evaluation (per-point random streams); default 0..n-1. */
  pointIds?: readonly number[];
  /** Transfer: compute the examples on this model, judge success on the target. */
  source?: LogitsFn;
}

export interface SweepResult {
  epsilons: number[];
  /** The adversarial batch per epsilon (inside the ball and [0, 1]). Caller disposes. */
  adversarials: tf.Tensor4D[];
  /** Per epsilon, per point: the target misclassifies the adversarial example. */
  success: tf.Tensor1D[];
  /** The validated parameters with defaults. */
  params: ParamValues;
}

/**
 * An epsilon sweep (foolbox 3 style): every epsilon is attacked from scratch with the same
 * seed, so "accuracy never rises with epsilon" stays a real check.
 */
export function runAttack(
  attack: AttackRef,
  logits: LogitsFn,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  epsilons: number[],
  options: SweepOptions = {},
): SweepResult {
  const def = definitionOf(attack);
  const params = resolveParams(def, options.params);
  epsilons.forEach(checkEpsilon);
  checkBatch(x, labels);
  checkPointIds(x, options.pointIds);
  const seed = options.seed ?? DEFAULT_SEED;
  const adversarials: tf.Tensor4D[] = [];
  const success: tf.Tensor1D[] = [];
  for (const eps of epsilons) {
    const adv = perturbResolved(def, options.source ?? logits, x, labels, eps, params, seed, options.pointIds);
    adversarials.push(adv);
    success.push(tf.tidy(() => misclassified(logits(adv), labels)));
  }
  return { epsilons: [...epsilons], adversarials, success, params };
}
