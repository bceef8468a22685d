// Mini-batches from a dataset held in host memory: a seeded permutation per epoch, gathered
// into one reusable buffer per batch.
import { tf } from '../../src/tf.js';
import type { Tensor1D, Tensor4D } from '../../src/tf.js';
import type { Dataset } from '../../src/data/index.js';

export interface Batch {
  x: Tensor4D;
  y: Tensor1D;
  size: number;
}

/** Number of batches of an epoch; the last one may be smaller (no example is dropped). */
export function batchCount(examples: number, batchSize: number): number {
  return Math.ceil(examples / batchSize);
}

/**
 * The `b`-th batch of `order` (a permutation of example indices), as new tensors;
 * `transform` may change the gathered pixels first (augmentation).
 */
export function gatherBatch(
  data: Dataset,
  order: Int32Array,
  b: number,
  batchSize: number,
  transform?: (pixels: Float32Array, count: number) => void,
): Batch {
  const from = b * batchSize;
  const size = Math.min(batchSize, order.length - from);
  const [h, w, c] = data.shape;
  const per = h * w * c;
  const pixels = new Float32Array(size * per);
  const labels = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const idx = order[from + i]!;
    pixels.set(data.images.subarray(idx * per, (idx + 1) * per), i * per);
    labels[i] = data.labels[idx]!;
  }
  transform?.(pixels, size);
  return { x: tf.tensor4d(pixels, [size, h, w, c]), y: tf.tensor1d(labels, 'int32'), size };
}

/** 0..n-1, for evaluation in file order. */
export function identityOrder(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}
