// Adam (Kingma and Ba 2015) with its whole state in the open (moments and step count), so a
// checkpoint restores it exactly and a resumed run matches an uninterrupted one bit for bit.
// (tf.train.adam recomputes its beta powers with pow() on restore, which differs from the
// running product in the last bits.)
import { tf } from '../../src/tf.js';
import type { Tensor } from '../../src/tf.js';

export interface AdamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export interface AdamState {
  step: number;
  /** First moments, then second moments, in the order of the variables. */
  moments: Tensor[];
}

export class Adam {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private step = 0;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];

  constructor(
    private readonly variables: readonly tf.Variable[],
    options: AdamOptions,
  ) {
    this.learningRate = options.learningRate;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    // tidy frees the zeros; the variables keep their own reference to the data.
    this.m = variables.map((w) => tf.tidy(() => tf.variable(tf.zerosLike(w), false)));
    this.v = variables.map((w) => tf.tidy(() => tf.variable(tf.zerosLike(w), false)));
  }

  get steps(): number {
    return this.step;
  }

  /** One update; `grads[i]` belongs to `variables[i]`. Does not dispose the gradients. */
  apply(grads: readonly Tensor[]): void {
    this.step += 1;
    // Bias corrections in float64 on the host: the same numbers whether or not the run resumed.
    const c1 = 1 - Math.pow(this.beta1, this.step);
    const c2 = 1 - Math.pow(this.beta2, this.step);
    // One tidy per variable: resnet32's temporaries of all variables at once took 0.8 GiB.
    this.variables.forEach((w, i) => {
      tf.tidy(() => {
        const g = grads[i]!;
        const m = tf.add(tf.mul(this.m[i]!, this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(this.v[i]!, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        this.m[i]!.assign(m);
        this.v[i]!.assign(v);
        const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), this.epsilon));
        w.assign(tf.sub(w, tf.mul(update, this.learningRate)));
      });
    });
  }

  /** The state, as tensors owned by the optimizer (do not dispose them). */
  getState(): AdamState {
    return { step: this.step, moments: [...this.m, ...this.v] };
  }

  /** Restores a state saved by getState (copies the values). */
  setState(state: { step: number; moments: Tensor[] }): void {
    const n = this.variables.length;
    if (state.moments.length !== 2 * n) {
      throw new Error(`Adam state has ${state.moments.length} moment tensors, expected ${2 * n}`);
    }
    this.step = state.step;
    state.moments.forEach((t, i) => (i < n ? this.m[i]! : this.v[i - n]!).assign(t));
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}
