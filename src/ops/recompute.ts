// Gradient by recomputation: TF.js keeps every intermediate of a forward pass, and every
// intermediate gradient of the backward pass, until the whole gradient is done. A decoupled
// operator makes several full-size intermediates per layer (the patch energy, the projection,
// their gradients), which took decoupled cnn9 and resnet32 at batch 128 past the wasm
// backend's 4 GiB heap. Wrapped here, the operator keeps only its inputs; the backward pass
// runs it again and differentiates that copy, whose intermediates are freed at once.
import { tf } from '../tf.js';
import type { Tensor } from '../tf.js';

/**
 * `f(...inputs)` with the same value and gradient, but whose intermediates are not kept for
 * the backward pass. `f` must be pure (it runs twice) and use every input.
 */
export function withRecomputedGradient<T extends Tensor>(f: (...xs: Tensor[]) => T, inputs: Tensor[]): T {
  const op = tf.customGrad((...args: unknown[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const xs = args as Tensor[];
    save(xs);
    return {
      value: f(...xs),
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) =>
        keepingOuterTape(() => tf.grads((...ys: Tensor[]) => f(...ys))(saved, dy as Tensor)),
    };
  });
  return (op as unknown as (...xs: Tensor[]) => T)(...inputs);
}

/** The engine field that holds the tape of the gradient being computed. */
interface EngineTape {
  state: { activeTape: unknown };
}

/**
 * Runs a nested gradient inside a backward pass. TF.js starts a fresh tape for it and clears
 * the engine's tape when it ends, which would leave the outer gradient without its tape (it
 * frees the tape's saved tensors at the end): the outer tape is put back.
 */
function keepingOuterTape<T>(body: () => T): T {
  const state = (tf.engine() as unknown as EngineTape).state;
  const outer = state.activeTape;
  try {
    return body();
  } finally {
    state.activeTape = outer;
  }
}
