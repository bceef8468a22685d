// Whether a decoupled layer's gradient is recomputed (recompute.ts) or its intermediates are
// kept. Recomputing costs one more forward pass of the operator per training step and, in an
// input gradient, the filter gradient of the nested tf.grads as well; it only pays where the
// kept intermediates would crowd the wasm backend's 4 GiB heap. small-cnn at batch 128 keeps
// them (measured: 4 MiB more at the training step's peak, of 165); decoupled cnn9 at batch 128
// needs recomputation in every layer (about 4 GiB kept otherwise; keeping only its 8x8 stage
// still ran out of heap). So, per gradient being recorded: layers keep their intermediates, in
// forward order, while their outputs add up to KEPT_OUTPUT_BUDGET_BYTES; from the first layer
// that does not fit, every later one recomputes (cnn9's and resnet32's first layers do not fit
// at batch 128: they recompute throughout, as before).
import { tf } from '../tf.js';
import type { Tensor } from '../tf.js';
import { withRecomputedGradient } from './recompute.js';

/** Output bytes of the layers that keep their intermediates, per gradient. */
export const KEPT_OUTPUT_BUDGET_BYTES = 32 * 2 ** 20;

/** The engine fields that tell whether, and on which tape, a gradient is being recorded. */
interface EngineTapeState {
  isTapeOn(): boolean;
  state: { activeTape: object | null };
}

/** The gradient being recorded (its tape), what its layers kept, and whether one did not fit. */
let budget: { tape: WeakRef<object>; keptBytes: number; exhausted: boolean } | undefined;

/**
 * Whether an operator with this float32 output shape recomputes its gradient; called once per
 * layer call, in forward order. Outside a gradient nothing is kept, so nothing is recomputed.
 */
export function recomputeApplies(outputShape: readonly number[]): boolean {
  const engine = tf.engine() as unknown as EngineTapeState;
  const tape = engine.state.activeTape;
  if (!engine.isTapeOn() || tape === null) return false;
  if (budget?.tape.deref() !== tape) budget = { tape: new WeakRef(tape), keptBytes: 0, exhausted: false };
  const bytes = outputShape.reduce((a, b) => a * b, 4);
  if (budget.exhausted || budget.keptBytes + bytes > KEPT_OUTPUT_BUDGET_BYTES) {
    budget.exhausted = true;
    return true;
  }
  budget.keptBytes += bytes;
  return false;
}

/** `f(...inputs)`, its gradient recomputed when `recomputeApplies(outputShape)`. */
export function withGradientPolicy<T extends Tensor>(f: (...xs: Tensor[]) => T, inputs: Tensor[], outputShape: readonly number[]): T {
  return recomputeApplies(outputShape) ? withRecomputedGradient(f, inputs) : f(...inputs);
}
