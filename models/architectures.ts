// The study's architectures, each built with DecoupledConv2D so the baseline (`standard`)
// and every decoupled operator share one definition.
import { tf } from '../src/tf.js';
import { DecoupledConv2D } from '../src/layers/decoupled-conv2d.js';
import { ChannelBatchNorm } from '../src/layers/batch-norm.js';
import { type DecoupledOptionsInput, OptionError, parseOperatorId } from '../src/ops/options.js';

export const ARCHITECTURES = ['small-cnn', 'small-cnn-bn', 'cnn9', 'resnet32'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export interface BuildOptions {
  inputShape: [number, number, number];
  numClasses: number;
  /** Operator id (`standard`, `tanh-cosine`, ...) used by the decoupled convolutions. */
  operator: string;
  /** Extra operator options (radius, alpha, learnableRadius, ...). */
  operatorOptions?: DecoupledOptionsInput & { learnableRadius?: boolean };
  /** Seed of every initializer: same seed, same initial weights. */
  seed: number;
}

/** Hands out a distinct, deterministic seed to each layer. */
class Seeds {
  private next: number;
  constructor(seed: number) {
    this.next = seed * 1000 + 1;
  }
  take(): number {
    return this.next++;
  }
}

function conv(
  b: BuildOptions,
  seeds: Seeds,
  filters: number,
  kernelSize: number,
  extra: DecoupledOptionsInput & { learnableRadius?: boolean; name?: string } = {},
): DecoupledConv2D {
  const { magnitude, angular, weighting } = parseOperatorId(b.operator);
  return new DecoupledConv2D({
    filters,
    kernelSize,
    padding: 'same',
    magnitude,
    angular,
    weighting,
    ...(magnitude === 'standard' ? {} : b.operatorOptions),
    ...extra,
    kernelInitializer: 'heNormal',
    seed: seeds.take(),
  } as never);
}

/** A plain (never decoupled) convolution: shortcuts and classifiers, as in the paper. */
function plainConv(seeds: Seeds, filters: number, kernelSize: number, strides = 1): DecoupledConv2D {
  return new DecoupledConv2D({
    filters,
    kernelSize,
    strides,
    padding: 'same',
    magnitude: 'standard',
    kernelInitializer: 'heNormal',
    seed: seeds.take(),
  });
}

/**
 * small-cnn, the CPU default: 3x3 conv 32, ReLU, 2x2 max-pool; 3x3 conv 64, ReLU, 2x2
 * max-pool; dense to logits. No biases in the convolutions. small-cnn-bn (`batchNorm`) puts
 * batch normalisation after each convolution, before its ReLU, as the authors' models do.
 */
function smallCnn(b: BuildOptions, batchNorm = false): tf.LayersModel {
  const seeds = new Seeds(b.seed);
  const input = tf.input({ shape: b.inputShape });
  let x: tf.SymbolicTensor = input;
  for (const width of [32, 64]) {
    x = conv(b, seeds, width, 3).apply(x) as tf.SymbolicTensor;
    if (batchNorm) x = new ChannelBatchNorm().apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU().apply(x) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }).apply(x) as tf.SymbolicTensor;
  }
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const logits = tf.layers
    .dense({ units: b.numClasses, kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.take() }) })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: batchNorm ? 'small-cnn-bn' : 'small-cnn' });
}

function bnRelu(x: tf.SymbolicTensor): tf.SymbolicTensor {
  const y = tf.layers.batchNormalization({ axis: -1 }).apply(x) as tf.SymbolicTensor;
  return tf.layers.reLU().apply(y) as tf.SymbolicTensor;
}

/**
 * Plain CNN-9 (SphereNet's): 3 stages of 3 x [3x3 conv, BN, ReLU] with 128, 192, 256
 * channels, 2x2 max-pool after each (same padding, so 28x28 inputs also reach 4x4), a 4x4
 * valid conv to 256 with BN and ReLU, and a plain 1x1 classifier.
 */
function cnn9(b: BuildOptions): tf.LayersModel {
  const seeds = new Seeds(b.seed);
  const input = tf.input({ shape: b.inputShape });
  let x: tf.SymbolicTensor = input;
  for (const width of [128, 192, 256]) {
    for (let i = 0; i < 3; i++) x = bnRelu(conv(b, seeds, width, 3).apply(x) as tf.SymbolicTensor);
    x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same' }).apply(x) as tf.SymbolicTensor;
  }
  x = bnRelu(conv(b, seeds, 256, 4, { padding: 'valid' }).apply(x) as tf.SymbolicTensor);
  x = plainConv(seeds, b.numClasses, 1).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: 'cnn9' });
}

/**
 * CIFAR ResNet-32 as in the official code: input (rgb - 127.5) / 128, root 3x3 conv of 96,
 * 3 stages of 5 residual units (96, 192, 384; stride 2 at the start of stages 2 and 3),
 * global average pool, plain 1x1 classifier. Shortcuts that change shape are plain 1x1 convs.
 */
function resnet32(b: BuildOptions): tf.LayersModel {
  const seeds = new Seeds(b.seed);
  const input = tf.input({ shape: b.inputShape });
  // Pixels arrive in [0, 1]; the normalisation lives inside the model.
  let x = tf.layers.rescaling({ scale: 255 / 128, offset: -127.5 / 128 }).apply(input) as tf.SymbolicTensor;
  x = bnRelu(conv(b, seeds, 96, 3).apply(x) as tf.SymbolicTensor);
  [96, 192, 384].forEach((width, stage) => {
    for (let unit = 0; unit < 5; unit++) {
      const strides = stage > 0 && unit === 0 ? 2 : 1;
      let y = bnRelu(conv(b, seeds, width, 3, { strides }).apply(x) as tf.SymbolicTensor);
      y = tf.layers.batchNormalization({ axis: -1 }).apply(conv(b, seeds, width, 3).apply(y)) as tf.SymbolicTensor;
      const inWidth = x.shape[x.shape.length - 1];
      const shortcut = strides !== 1 || inWidth !== width ? (plainConv(seeds, width, 1, strides).apply(x) as tf.SymbolicTensor) : x;
      x = tf.layers.reLU().apply(tf.layers.add().apply([y, shortcut])) as tf.SymbolicTensor;
    }
  });
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reshape({ targetShape: [1, 1, 384] }).apply(x) as tf.SymbolicTensor;
  x = plainConv(seeds, b.numClasses, 1).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: 'resnet32' });
}

const BUILDERS: Record<Architecture, (b: BuildOptions) => tf.LayersModel> = {
  'small-cnn': (b) => smallCnn(b),
  'small-cnn-bn': (b) => smallCnn(b, true),
  cnn9,
  resnet32,
};

/** Builds an architecture with the given operator; the model outputs logits. */
export function buildModel(architecture: string, options: BuildOptions): tf.LayersModel {
  const builder = BUILDERS[architecture as Architecture];
  if (!builder) {
    throw new OptionError(`Unknown architecture '${architecture}'. Valid values: ${ARCHITECTURES.join(', ')}.`);
  }
  return builder(options);
}
