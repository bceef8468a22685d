// Weight projection (spec section 1): every `period` training steps each decoupled filter
// variable is overwritten by its unit-norm version. The forward pass does not change
// (the operators use w / |w|); it keeps the gradients well scaled.
import { tf } from '../tf.js';
import type { Tensor4D } from '../tf.js';
import { filterNorm } from '../ops/decoupled.js';
import { OptionError } from '../ops/options.js';
import { DecoupledConv2D } from './decoupled-conv2d.js';

/** The decoupled (non-standard) convolution layers of a model, nested models included. */
export function decoupledLayers(model: tf.LayersModel): DecoupledConv2D[] {
  const out: DecoupledConv2D[] = [];
  const visit = (layer: tf.layers.Layer): void => {
    if (layer instanceof DecoupledConv2D) {
      if (layer.options.magnitude !== 'standard') out.push(layer);
    } else if ('layers' in layer && Array.isArray((layer as tf.LayersModel).layers)) {
      (layer as tf.LayersModel).layers.forEach(visit);
    }
  };
  model.layers.forEach(visit);
  return out;
}

/** Projects every decoupled filter of the model onto the unit sphere, in place. */
export function projectWeights(model: tf.LayersModel): number {
  const layers = decoupledLayers(model);
  for (const layer of layers) {
    tf.tidy(() => {
      const w = layer.kernel.read() as Tensor4D;
      layer.kernel.write(tf.div(w, filterNorm(w)));
    });
  }
  return layers.length;
}

/** Counts training steps and projects the weights every `period` of them. */
export class WeightProjection {
  private steps = 0;
  constructor(
    private readonly model: tf.LayersModel,
    readonly period = 100,
  ) {
    if (!Number.isInteger(period) || period < 1) {
      throw new OptionError(`Invalid weight-projection period ${period}: it must be a positive integer.`);
    }
  }
  /** Call after every optimiser step; returns true when it projected. */
  afterStep(): boolean {
    this.steps += 1;
    if (this.steps % this.period !== 0) return false;
    projectWeights(this.model);
    return true;
  }
}

/** The same as a tf.layers callback, for model.fit: `callbacks: [weightProjectionCallback(model)]`. */
export function weightProjectionCallback(model: tf.LayersModel, period = 100): tf.CustomCallback {
  const projection = new WeightProjection(model, period);
  return new tf.CustomCallback({
    onBatchEnd: async () => {
      projection.afterStep();
    },
  });
}
