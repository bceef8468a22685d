// ChannelBatchNorm: batch normalisation over the last axis (channels last), as
// tf.layers.batchNormalization({ axis: -1 }) computes it (same weights, defaults, moving
// averages and values), on the fused ops of src/ops/batch-norm.ts so that it trains fast on
// wasm. A separate class name: models saved with TF.js's layer load as before.
import { tf } from '../tf.js';
import type { Tensor } from '../tf.js';
import { batchNormInference, batchNormTraining } from '../ops/batch-norm.js';
import { OptionError } from '../ops/options.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
type LayerVariable = ReturnType<tf.layers.Layer['addWeight']>;

export interface ChannelBatchNormArgs extends LayerArgs {
  /** Decay of the moving averages (Keras's default 0.99). */
  momentum?: number;
  /** Added to the variance (Keras's default 1e-3). */
  epsilon?: number;
}

export class ChannelBatchNorm extends tf.layers.Layer {
  static className = 'ChannelBatchNorm';

  readonly momentum: number;
  readonly epsilon: number;
  gamma!: LayerVariable;
  beta!: LayerVariable;
  movingMean!: LayerVariable;
  movingVariance!: LayerVariable;

  constructor(args: ChannelBatchNormArgs = {}) {
    super(args);
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    if (!(this.momentum >= 0 && this.momentum < 1)) throw new OptionError(`Invalid batch-norm momentum ${this.momentum}: it must be in [0, 1).`);
    if (!(this.epsilon > 0)) throw new OptionError(`Invalid batch-norm epsilon ${this.epsilon}: it must be > 0.`);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1];
    if (channels == null) throw new OptionError('ChannelBatchNorm needs a known number of channels (the last axis).');
    // The names and order of tf.layers.batchNormalization's weights.
    this.gamma = this.addWeight('gamma', [channels], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [channels], 'float32', tf.initializers.zeros());
    this.movingMean = this.addWeight('moving_mean', [channels], 'float32', tf.initializers.zeros(), undefined, false);
    this.movingVariance = this.addWeight('moving_variance', [channels], 'float32', tf.initializers.ones(), undefined, false);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: Tensor | Tensor[], kwargs: { training?: boolean }): Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const [gamma, beta] = [this.gamma.read(), this.beta.read()];
      if (kwargs.training !== true) {
        return batchNormInference(x, gamma, beta, this.movingMean.read(), this.movingVariance.read(), this.epsilon);
      }
      const { y, mean, variance } = batchNormTraining(x, gamma, beta, this.epsilon);
      // As tf.layers: moving -= (moving - batch) * (1 - momentum), the biased batch variance.
      for (const [moving, batch] of [[this.movingMean, mean], [this.movingVariance, variance]] as const) {
        const old = moving.read();
        moving.write(tf.sub(old, tf.mul(tf.sub(old, batch), 1 - this.momentum)));
      }
      return y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), momentum: this.momentum, epsilon: this.epsilon };
  }
}

tf.serialization.registerClass(ChannelBatchNorm);
