// Gradient by recomputation: TF.js keeps every intermediate of a forward pass, and every
// intermediate gradient of the backward pass, until the whole gradient is done. A decoupled
// operator makes several full-size intermediates per layer (the patch energy, the projection,
// their gradients), and batch normalisation three more per layer, which took cnn9 and resnet32
// at batch 128 past the wasm backend's 4 GiB heap. Wrapped here, a computation keeps only its
// inputs; the backward pass runs it again and differentiates that copy, whose intermediates
// are freed at once.
import { tf } from '../tf.js';
import type { Tensor } from '../tf.js';

export interface RecomputeOptions {
  /**
   * Variables `f` reads directly (a layer's weights) whose gradients are wanted. TF.js records
   * nothing inside the wrapped forward pass, so they are passed as inputs of the op.
   */
  variables?: tf.Variable[];
  /**
   * Variables `f` writes (batch-norm moving statistics): put back after the backward pass
   * runs `f` again, so they are updated once per step, as without recomputation.
   */
  state?: tf.Variable[];
}

/**
 * `f(...inputs)` with the same value and gradient, but whose intermediates are not kept for
 * the backward pass. `f` must be deterministic (it runs twice) and use every input.
 */
export function withRecomputedGradient<T extends Tensor>(
  f: (...xs: Tensor[]) => T,
  inputs: Tensor[],
  options: RecomputeOptions = {},
): T {
  const variables = options.variables ?? [];
  const n = inputs.length;
  const op = tf.customGrad((...args: unknown[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const xs = (args as Tensor[]).slice(0, n);
    save(xs);
    return {
      value: f(...xs),
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
        const grads = keepingOuterTape(() =>
          restoring(options.state ?? [], () => {
            const all = [...saved, ...variables];
            const { grads: g } = tf.engine().gradients(() => f(...saved), all, dy as Tensor, true);
            // A variable the output does not depend on (none in practice) gets a zero gradient.
            return all.map((t, i) => g[i] ?? tf.zerosLike(t));
          }),
        );
        releaseEarly(dy as Tensor, saved, grads);
        return grads;
      },
    };
  });
  return (op as unknown as (...xs: Tensor[]) => T)(...inputs, ...variables);
}

/** The engine fields used here: the tape being recorded, gradient nesting, the tidy scope. */
interface EngineState {
  state: { activeTape: unknown; gradientDepth: number; activeScope: { id: number } | null };
}

/**
 * Runs a nested gradient inside a backward pass. TF.js starts a fresh tape for it and clears
 * the engine's tape when it ends, which would leave the outer gradient without its tape (it
 * frees the tape's saved tensors at the end): the outer tape is put back.
 */
function keepingOuterTape<T>(body: () => T): T {
  const state = (tf.engine() as unknown as EngineState).state;
  const outer = state.activeTape;
  try {
    return body();
  } finally {
    state.activeTape = outer;
  }
}

/** Runs `body`, then gives each variable of `state` back the value it had before. */
function restoring<T>(state: tf.Variable[], body: () => T): T {
  const before = state.map((v) => tf.keep(v.clone()));
  try {
    return body();
  } finally {
    state.forEach((v, i) => v.assign(before[i]!));
    tf.dispose(before);
  }
}

/**
 * Frees the op's output gradient and its saved inputs as soon as its own gradients exist.
 * TF.js frees neither before the whole backward pass ends (every intermediate gradient of a
 * network stays alive until then), but nothing reads them after this op's gradient: the
 * output gradient was the last use of that tensor, and the saved copies are this op's own.
 * The output gradient only when the backward pass made it (its tidy scope is the active one),
 * never a `dy` the caller passed in; nothing while a higher-order gradient is being recorded.
 */
function releaseEarly(dy: Tensor, saved: Tensor[], results: Tensor[]): void {
  const state = (tf.engine() as unknown as EngineState).state;
  if (state.gradientDepth > 0) return;
  const scope = (dy as unknown as { scopeId?: number }).scopeId;
  if (scope !== undefined && scope === state.activeScope?.id && !dy.kept && !results.includes(dy)) dy.dispose();
  for (const t of saved) if (!results.includes(t)) t.dispose();
}
