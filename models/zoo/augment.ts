// Data augmentation of the official CIFAR recipe: pad 4 pixels by reflection, crop back to
// the original size at a random offset, flip horizontally with probability 1/2. Works on the
// host batch buffer (NHWC) and draws from the training generator, so it is seeded and a
// resumed run draws the same crops.
import type { SeededRandom } from '../../src/random.js';

export const AUGMENTATIONS = ['none', 'crop-flip'] as const;
/** Reflect padding of crop-flip: the official CIFAR recipe's 4 pixels. */
export const CROP_PAD = 4;
export type Augmentation = (typeof AUGMENTATIONS)[number];

/** Reflects an index into [0, n) without repeating the edge (TF's REFLECT, numpy's 'reflect'). */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/** Crops at offset (dy, dx) in [-pad, pad] from the reflect-padded image, optionally flipped. */
export function cropFlipImage(
  src: Float32Array,
  dst: Float32Array,
  shape: readonly [number, number, number],
  dy: number,
  dx: number,
  flip: boolean,
): void {
  const [h, w, c] = shape;
  for (let y = 0; y < h; y++) {
    const sy = reflectIndex(y + dy, h);
    for (let x = 0; x < w; x++) {
      const sx = reflectIndex((flip ? w - 1 - x : x) + dx, w);
      const from = (sy * w + sx) * c;
      const to = (y * w + x) * c;
      for (let k = 0; k < c; k++) dst[to + k] = src[from + k]!;
    }
  }
}

/** Augments every image of an NHWC batch in place. */
export function cropFlipBatch(
  pixels: Float32Array,
  count: number,
  shape: readonly [number, number, number],
  pad: number,
  rng: SeededRandom,
): void {
  const per = shape[0] * shape[1] * shape[2];
  const scratch = new Float32Array(per);
  for (let i = 0; i < count; i++) {
    const image = pixels.subarray(i * per, (i + 1) * per);
    scratch.set(image);
    const dy = rng.int(2 * pad + 1) - pad;
    const dx = rng.int(2 * pad + 1) - pad;
    cropFlipImage(scratch, image, shape, dy, dx, rng.next() < 0.5);
  }
}
