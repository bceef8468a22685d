// Turns a tf.LayersModel into the inference-mode logits function attacks use.
import { tf } from '../src/tf.js';
import type { LogitsFn } from './types.js';

export function logitsOf(model: tf.LayersModel | LogitsFn): LogitsFn {
  if (typeof model === 'function') return model;
  // training: false = batch-norm on moving statistics, no dropout.
  return (x) => model.apply(x, { training: false }) as tf.Tensor2D;
}
