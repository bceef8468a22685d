// The attack contract: what one attack module declares and what the shared base hands it.
import { UserError } from '../src/errors.js';
import type { tf } from '../src/tf.js';

/** Inference-mode logits of a model (no softmax, batch-norm on moving statistics). */
export type LogitsFn = (x: tf.Tensor4D) => tf.Tensor2D;

/** A per-point loss from logits and labels, to be maximised by the attack. */
export type LossFn = (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Tensor1D;

/** A user mistake in an attack request: printed by the CLI as one line. */
export class AttackError extends UserError {
  override name = 'AttackError';
}

export type ParamValue = number | boolean | string;

/** One attack parameter: its type, default, bounds and a line of help. */
export interface ParamSpec {
  type: 'int' | 'number' | 'boolean' | 'choice';
  /** The allowed values of a 'choice' parameter. */
  choices?: readonly string[];
  /** Undefined means "optional, no default" (e.g. an absolute step size). */
  default?: ParamValue;
  min?: number;
  max?: number;
  help: string;
}

export type ParamValues = Record<string, ParamValue | undefined>;

/** Everything an attack gets from the base for one epsilon and one batch. */
export interface AttackContext {
  /** Clean inputs in [0, 1]. */
  readonly x: tf.Tensor4D;
  /** True class per point. */
  readonly labels: tf.Tensor1D;
  /**
   * Each point's index in the whole evaluation (0..n-1 unless the caller gives them): seeds
   * per-point random streams, so a point's result does not depend on its batch (Square).
   */
  readonly pointIds: readonly number[];
  readonly epsilon: number;
  /** The model the attack is computed on (the source model, for transfer). */
  readonly logits: LogitsFn;
  /** Validated parameters, defaults filled in. */
  readonly params: ParamValues;
  /** Projects onto the Linf ball around x and onto [0, 1]. */
  project(xAdv: tf.Tensor): tf.Tensor4D;
  /**
   * Gradient of the summed per-point loss at xAdv (the `loss` parameter where the attack has
   * one, else cross-entropy; or the loss given here), the per-point loss values and which
   * points xAdv already fools.
   */
  gradient(xAdv: tf.Tensor4D, loss?: LossFn): { grad: tf.Tensor4D; fooled: tf.Tensor1D; loss: tf.Tensor1D };
  /** The loss named by the attack's `loss` parameter (cross-entropy without one). */
  readonly lossFn: LossFn;
  /** How points stop: 'none' (earlyStop false), 'freeze' (compact false) or 'compact'. */
  readonly stopMode: 'none' | 'freeze' | 'compact';
  /**
   * Runs `run` on a context restricted to the points `current` does not fool yet (reads one
   * mask back) and returns `current` with those points replaced by the result: how ensembles,
   * restarts and target classes spend effort only where it is still needed. `params` replaces
   * the parameters in the restricted context (an ensemble's member settings).
   */
  remaining(current: tf.Tensor4D, run: (sub: AttackContext) => tf.Tensor4D, params?: ParamValues): tf.Tensor4D;
  /** Per-point margin (true logit minus best other logit; negative = fooled). */
  margin(xAdv: tf.Tensor4D): tf.Tensor1D;
  /** Absolute step size from `stepSize` or `relStepSize * epsilon`. */
  stepSize(): number;
  /**
   * Runs `steps` gradient steps from `start` with projection after each, per-point early
   * stop (a point that is fooled keeps that iterate; off with the `earlyStop: false`
   * parameter of `iterationParams`) and tidy memory. `step` returns the
   * unprojected next point and, optionally, the next state tensors (e.g. momentum).
   */
  iterate(
    start: tf.Tensor4D,
    steps: number,
    step: (xAdv: tf.Tensor4D, grad: tf.Tensor4D, state: tf.Tensor[]) => { x: tf.Tensor; state?: tf.Tensor[] },
    initialState?: tf.Tensor[],
  ): tf.Tensor4D;
  /** Uniform random start inside the ball (and the bounds), from the attack's seed. */
  randomStart(): tf.Tensor4D;
  /** Keeps `current` where it already fools, else takes `candidate` (restarts). */
  keepFooling(current: tf.Tensor4D, candidate: tf.Tensor4D): tf.Tensor4D;
  /** Next seed of this run's deterministic stream (for tf.random* and JS generators). */
  nextSeed(): number;
}

/** One registered attack. Adding an attack is one module exporting one of these. */
export interface AttackDefinition {
  name: string;
  /** Threat model; only Linf is implemented so far. */
  norm: 'linf';
  /** What the attack needs from the model: gradients (white-box) or only outputs. */
  needs: 'gradients' | 'outputs';
  /** Whether it iterates (for the check "iterative at least as strong as FGSM"). */
  iterative: boolean;
  /** Whether it draws random numbers (the seed matters). */
  randomized: boolean;
  description: string;
  params: Record<string, ParamSpec>;
  /** Optional cross-parameter validation (e.g. stepSize vs relStepSize). */
  validate?(params: ParamValues): void;
  /** One epsilon, one batch: returns an adversarial batch (the base projects it again). */
  run(ctx: AttackContext): tf.Tensor4D;
  /**
   * Ensembles: `run` plus, per member in order, which points were fooled by the time that
   * member finished (its cumulative success; AutoAttack reports robust accuracy this way).
   */
  runMembers?(ctx: AttackContext): { adv: tf.Tensor4D; members: Array<{ name: string; fooled: Uint8Array }> };
}
