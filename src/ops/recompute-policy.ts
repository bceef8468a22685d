// Whether a decoupled layer's gradient is recomputed (recompute.ts) or its intermediates are
// kept. Recomputing costs one more forward pass of the operator per training step and, in
// an input gradient, the filter gradient of the nested tf.grads as well; it only pays where
// the kept intermediates would crowd the wasm backend's 4 GiB heap. Those scale with the
// layer's output: small-cnn at batch 128 (at most 12.3 MiB per output) keeps them, cnn9's and
// resnet32's first two stages at batch 128 (24-64 MiB per output, about 4 GiB kept in all for
// cnn9) recompute.
import type { Tensor } from '../tf.js';
import { withRecomputedGradient } from './recompute.js';

/** A layer whose output takes at least this many bytes recomputes its gradient. */
export const RECOMPUTE_MIN_OUTPUT_BYTES = 16 * 2 ** 20;

/** Whether an operator with this float32 output shape recomputes its gradient. */
export function recomputeApplies(outputShape: readonly number[]): boolean {
  return outputShape.reduce((a, b) => a * b, 4) >= RECOMPUTE_MIN_OUTPUT_BYTES;
}

/** `f(...inputs)`, its gradient recomputed when `recomputeApplies(outputShape)`. */
export function withGradientPolicy<T extends Tensor>(f: (...xs: Tensor[]) => T, inputs: Tensor[], outputShape: readonly number[]): T {
  return recomputeApplies(outputShape) ? withRecomputedGradient(f, inputs) : f(...inputs);
}
