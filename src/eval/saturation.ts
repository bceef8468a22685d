// Saturation of the decoupled layers: per layer, the share of input patches whose norm |x|
// exceeds the radius rho. Past rho BallConv's magnitude is flat (zero gradient in |x|) and
// TanhConv's is near 1: the share says how much of a model's input the bounded operators
// squash, on clean test points and on adversarial examples, and so what they do to gradients.
import { tf } from '../tf.js';
import type { Tensor, Tensor4D } from '../tf.js';
import { logitsOf, perturb } from '../../attacks/index.js';
import { DecoupledConv2D } from '../layers/decoupled-conv2d.js';
import { patchNorm } from '../ops/decoupled.js';
import { usesRadius } from '../ops/options.js';
import type { TestPoints } from '../data/load.js';

export interface LayerSaturation {
  /** Position among the model's decoupled layers (0 = first), and the layer's name. */
  index: number;
  layer: string;
  operator: string;
  /** Whether the operator's formula uses rho (ball, tanh, seg); otherwise the share is only descriptive. */
  usesRadius: boolean;
  radius: 'fixed' | 'learnable';
  /** The effective radius: the fixed value, or the mean over output channels of the learnable one. */
  meanRadius: number;
  /** Share of (patch, output channel) pairs with |x| > rho, clean and adversarial. */
  clean: number;
  adversarial: number;
}

export interface SaturationResult {
  attack: string;
  params: Record<string, unknown>;
  epsilon: number;
  /** Test points measured (the first ones of the evaluated points). */
  points: number;
  layers: LayerSaturation[];
}

/** The model's decoupled layers (the baseline's plain convolutions are not). */
export function decoupledLayers(model: tf.LayersModel): DecoupledConv2D[] {
  return model.layers.filter((l): l is DecoupledConv2D => l instanceof DecoupledConv2D && l.options.magnitude !== 'standard');
}

/** Per decoupled layer: share of (patch, channel) pairs of `x` whose patch norm exceeds rho. */
export function saturationShares(model: tf.LayersModel, x: Tensor4D): number[] {
  const layers = decoupledLayers(model);
  if (!layers.length) return [];
  return tf.tidy(() => {
    // One forward pass to every decoupled layer's input (inference mode).
    const probe = tf.model({ inputs: model.inputs, outputs: layers.map((l) => l.input as tf.SymbolicTensor) });
    const raw = probe.predict(x);
    const inputs = (Array.isArray(raw) ? raw : [raw]) as Tensor4D[];
    return layers.map((l, i) => {
      const norm = patchNorm(inputs[i]!, l.kernelSize, l.options.strides, l.options.padding);
      const rho = l.effectiveRadius();
      // [N, H', W', 1] against a number or [cout]: broadcast to every (patch, channel) pair.
      return tf.mean(tf.cast(tf.greater(norm, rho as Tensor | number), 'float32')).dataSync()[0]!;
    });
  });
}

/**
 * The saturation table of a model: clean on the first `points` test points, and on their
 * adversarial examples under `attack` at `epsilon` (the attack's seed as in the evaluation).
 */
export function measureSaturation(
  model: tf.LayersModel,
  data: TestPoints,
  attack: { name: string; params?: Record<string, unknown> },
  epsilon: number,
  seed: number,
  points: number,
  batch = 100,
): SaturationResult | undefined {
  const layers = decoupledLayers(model);
  if (!layers.length) return undefined;
  const [h, w, c] = data.shape;
  const n = Math.min(points, data.count);
  const logits = logitsOf(model);
  const clean = new Array<number>(layers.length).fill(0);
  const adversarial = new Array<number>(layers.length).fill(0);
  for (let start = 0; start < n; start += batch) {
    const m = Math.min(batch, n - start);
    const [sc, sa] = tf.tidy(() => {
      const x = tf.tensor4d(data.images.subarray(start * h * w * c, (start + m) * h * w * c), [m, h, w, c]);
      const y = tf.tensor1d(data.labels.subarray(start, start + m), 'int32');
      const adv = perturb(attack.name, logits, x, y, epsilon, attack.params, seed);
      return [saturationShares(model, x), saturationShares(model, adv)];
    });
    // Batches weighted by their size: the shares are over every point.
    sc.forEach((v, i) => (clean[i]! += (v * m) / n));
    sa.forEach((v, i) => (adversarial[i]! += (v * m) / n));
  }
  return {
    attack: attack.name,
    params: attack.params ?? {},
    epsilon,
    points: n,
    layers: layers.map((l, i) => {
      const rho = l.effectiveRadius();
      const meanRadius = typeof rho === 'number' ? rho : tf.tidy(() => tf.mean(rho).dataSync()[0]!);
      if (typeof rho !== 'number') rho.dispose();
      return {
        index: i,
        layer: l.name,
        operator: l.operator,
        usesRadius: usesRadius(l.options),
        radius: l.learnableRadius ? 'learnable' : 'fixed',
        meanRadius,
        clean: clean[i]!,
        adversarial: adversarial[i]!,
      };
    }),
  };
}
