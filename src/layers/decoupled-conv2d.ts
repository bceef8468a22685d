// DecoupledConv2D: a tf.layers layer for every decoupled operator and for the plain
// convolution (`magnitude: 'standard'`), so baseline and DCNet models share one code path.
import { tf } from '../tf.js';
import type { Tensor, Tensor4D } from '../tf.js';
import {
  checkConvShapes,
  combineParts,
  decoupledParts,
  NORM_EPSILON,
  patchNorm,
} from '../ops/decoupled.js';
import { withGradientPolicy } from '../ops/recompute-policy.js';
import {
  type DecoupledOptions,
  type DecoupledOptionsInput,
  OptionError,
  operatorId,
  resolveOptions,
  usesRadius,
} from '../ops/options.js';

type LayerArgs = ConstructorParameters<typeof tf.layers.Layer>[0];
type LayerVariable = ReturnType<tf.layers.Layer['addWeight']>;
type Kwargs = { training?: boolean; [k: string]: unknown };

export interface DecoupledConv2DArgs extends DecoupledOptionsInput, NonNullable<LayerArgs> {
  filters: number;
  kernelSize: number | [number, number];
  /** One trainable radius per output channel: rho = (r^2 + 1e-4) * mean patch norm. */
  learnableRadius?: boolean;
  /** Decay of the moving average of the mean patch norm used at inference. */
  radiusMomentum?: number;
  /** Initializer name for the filter (default glorotUniform). */
  kernelInitializer?: string;
  /** Seed of the filter initializer: the same seed gives the same initial weights. */
  seed?: number;
}

export class DecoupledConv2D extends tf.layers.Layer {
  static className = 'DecoupledConv2D';

  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly options: DecoupledOptions;
  readonly learnableRadius: boolean;
  readonly radiusMomentum: number;
  readonly kernelInitializer: string;
  readonly seed: number | undefined;

  kernel!: LayerVariable;
  /** Learnable radius r per output channel (only with learnableRadius). */
  radiusScale?: LayerVariable;
  /** Bias-corrected moving average of the mean patch norm: sum and the decay's running power. */
  movingNorm?: LayerVariable;
  movingWeight?: LayerVariable;

  constructor(args: DecoupledConv2DArgs) {
    super(args);
    const {
      filters,
      kernelSize,
      learnableRadius,
      radiusMomentum,
      kernelInitializer,
      seed,
      magnitude,
      angular,
      weighting,
      radius,
      alpha,
      beta,
      k,
      strides,
      padding,
    } = args;
    if (!Number.isInteger(filters) || filters < 1) {
      throw new OptionError(`Invalid filters ${String(filters)}: it must be a positive integer.`);
    }
    const ks = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
    if (!Array.isArray(ks) || ks.length !== 2 || !ks.every((v) => Number.isInteger(v) && v >= 1)) {
      throw new OptionError(
        `Invalid kernelSize ${JSON.stringify(kernelSize)}: give a positive integer or a pair of them.`,
      );
    }
    this.filters = filters;
    this.kernelSize = [ks[0]!, ks[1]!];
    this.options = resolveOptions({ magnitude, angular, weighting, radius, alpha, beta, k, strides, padding });
    this.learnableRadius = learnableRadius ?? false;
    this.radiusMomentum = radiusMomentum ?? 0.999;
    this.kernelInitializer = kernelInitializer ?? 'glorotUniform';
    this.seed = seed;
    if (this.learnableRadius && !usesRadius(this.options)) {
      throw new OptionError(
        `Invalid learnableRadius for magnitude '${this.options.magnitude}' with weighting ` +
          `'${this.options.weighting}': that operator does not use the radius. Use it with ` +
          `magnitude ball, tanh or seg, or a nonlinear weighting.`,
      );
    }
    if (!(this.radiusMomentum > 0 && this.radiusMomentum < 1)) {
      throw new OptionError(`Invalid radiusMomentum ${this.radiusMomentum}: it must be in (0, 1).`);
    }
  }

  /** The operator id (e.g. `tanh-cosine`), for reports. */
  get operator(): string {
    return operatorId(this.options);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const cin = shape[shape.length - 1];
    if (cin == null) throw new OptionError('DecoupledConv2D needs a known number of input channels.');
    this.kernel = this.addWeight(
      'kernel',
      [this.kernelSize[0], this.kernelSize[1], cin, this.filters],
      'float32',
      initializerFor(this.kernelInitializer, this.seed),
    );
    if (this.learnableRadius) {
      this.radiusScale = this.addWeight('radius_scale', [this.filters], 'float32', tf.initializers.ones());
      this.movingNorm = this.addWeight('moving_norm', [], 'float32', tf.initializers.zeros(), undefined, false);
      this.movingWeight = this.addWeight('moving_weight', [], 'float32', tf.initializers.zeros(), undefined, false);
    }
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const [n, h, w] = shape;
    const [sh, sw] = this.options.strides;
    const out = (size: number | null, k: number, s: number): number | null => {
      if (size == null) return null;
      return this.options.padding === 'same' ? Math.ceil(size / s) : Math.ceil((size - k + 1) / s);
    };
    return [n ?? null, out(h ?? null, this.kernelSize[0], sh), out(w ?? null, this.kernelSize[1], sw), this.filters];
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as Tensor4D;
      const w = this.kernel.read() as Tensor4D;
      checkConvShapes(x.shape, w.shape, this.options.padding);
      if (this.options.magnitude === 'standard') {
        return tf.conv2d(x, w, this.options.strides, this.options.padding);
      }
      const o = this.options;
      const outputShape = this.computeOutputShape(x.shape) as number[];
      if (!this.learnableRadius) {
        return withGradientPolicy((xi, wi) => combineParts(decoupledParts(xi as Tensor4D, wi as Tensor4D, o), o, o.radius), [x, w], outputShape);
      }
      // rho = (r^2 + 1e-4) * m: m is the batch's mean patch norm while training (computed
      // inside the operator, so that gradients flow through it), a moving average otherwise.
      const training = kwargs.training === true;
      if (training) this.updateMovingNorm(x);
      const r = this.radiusScale!.read();
      const operands = training ? [x, w, r] : [x, w, r, this.inferenceNorm()];
      return withGradientPolicy(
        (xi, wi, ri, mi) => {
          const parts = decoupledParts(xi as Tensor4D, wi as Tensor4D, o);
          const rho = tf.mul(tf.add(tf.square(ri!), NORM_EPSILON), mi ?? tf.mean(parts.xNorm));
          return combineParts(parts, o, rho);
        },
        operands,
        outputShape,
      );
    });
  }

  /**
   * The moving average of the mean patch norm, used at inference. It is bias-corrected
   * (divided by 1 - decay^steps) so it is usable from the first step instead of starting at
   * zero.
   */
  private updateMovingNorm(x: Tensor4D): void {
    tf.tidy(() => {
      const m = tf.mean(patchNorm(x, this.kernelSize, this.options.strides, this.options.padding));
      const d = this.radiusMomentum;
      this.movingNorm!.write(tf.add(tf.mul(this.movingNorm!.read(), d), tf.mul(m, 1 - d)));
      this.movingWeight!.write(tf.add(tf.mul(this.movingWeight!.read(), d), 1 - d));
    });
  }

  /**
   * The radius the layer uses at inference: the fixed radius, or (r^2 + 1e-4) x the moving
   * mean patch norm per output channel ([cout]) with a learnable radius.
   */
  effectiveRadius(): number | Tensor {
    if (!this.learnableRadius) return this.options.radius;
    return tf.tidy(() => tf.mul(tf.add(tf.square(this.radiusScale!.read()), NORM_EPSILON), this.inferenceNorm()));
  }

  /** The averaged mean patch norm; before any training step there is none: m = 1. */
  private inferenceNorm(): Tensor {
    const weight = this.movingWeight!.read();
    return tf.where(tf.greater(weight, 0), tf.div(this.movingNorm!.read(), tf.maximum(weight, 1e-12)), tf.scalar(1));
  }

  override getConfig(): tf.serialization.ConfigDict {
    const o = this.options;
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      magnitude: o.magnitude,
      angular: o.angular,
      weighting: o.weighting,
      radius: o.radius,
      alpha: o.alpha,
      beta: o.beta,
      k: o.k,
      strides: o.strides,
      padding: o.padding,
      learnableRadius: this.learnableRadius,
      radiusMomentum: this.radiusMomentum,
      kernelInitializer: this.kernelInitializer,
      ...(this.seed === undefined ? {} : { seed: this.seed }),
    };
  }
}

function initializerFor(name: string, seed?: number): ReturnType<typeof tf.initializers.glorotUniform> {
  const table: Record<string, () => ReturnType<typeof tf.initializers.glorotUniform>> = {
    glorotUniform: () => tf.initializers.glorotUniform({ seed }),
    glorotNormal: () => tf.initializers.glorotNormal({ seed }),
    heNormal: () => tf.initializers.heNormal({ seed }),
    heUniform: () => tf.initializers.heUniform({ seed }),
  };
  const make = table[name];
  if (!make) {
    throw new OptionError(`Invalid kernelInitializer '${name}'. Valid values: ${Object.keys(table).join(', ')}.`);
  }
  return make();
}

tf.serialization.registerClass(DecoupledConv2D);

/** Convenience factory in the style of tf.layers.conv2d. */
export function decoupledConv2dLayer(args: DecoupledConv2DArgs): DecoupledConv2D {
  return new DecoupledConv2D(args);
}
