// Crop-flip augmentation: reflection, shifts, flips, seeding.
import { describe, expect, it } from 'vitest';
import { cropFlipBatch, cropFlipImage, reflectIndex } from '../models/zoo/index.js';
import { SeededRandom } from '../src/random.js';

// A 3x4 single-channel image with values 10*row + col.
const IMG = Float32Array.from({ length: 12 }, (_, i) => 10 * Math.floor(i / 4) + (i % 4));
const SHAPE = [3, 4, 1] as const;
const rows = (a: Float32Array): number[][] => [0, 1, 2].map((r) => Array.from(a.subarray(4 * r, 4 * r + 4)));

describe('crop-flip augmentation', () => {
  it('reflects without repeating the edge', () => {
    expect([-3, -2, -1, 0, 1, 2, 3, 4, 5].map((i) => reflectIndex(i, 4))).toEqual([3, 2, 1, 0, 1, 2, 3, 2, 1]);
    expect(reflectIndex(-1, 1)).toBe(0);
  });

  it('offset 0 without flip is the identity; flip mirrors columns', () => {
    const out = new Float32Array(12);
    cropFlipImage(IMG, out, SHAPE, 0, 0, false);
    expect(Array.from(out)).toEqual(Array.from(IMG));
    cropFlipImage(IMG, out, SHAPE, 0, 0, true);
    expect(rows(out)).toEqual([[3, 2, 1, 0], [13, 12, 11, 10], [23, 22, 21, 20]]);
  });

  it('shifts read from the reflect-padded image', () => {
    const out = new Float32Array(12);
    cropFlipImage(IMG, out, SHAPE, 1, -2, false);
    expect(rows(out)).toEqual([[12, 11, 10, 11], [22, 21, 20, 21], [12, 11, 10, 11]]);
  });

  it('keeps channels together and is seeded', () => {
    const rgb = Float32Array.from({ length: 2 * 4 * 4 * 3 }, (_, i) => i);
    const a = rgb.slice();
    const b = rgb.slice();
    cropFlipBatch(a, 2, [4, 4, 3], 2, new SeededRandom(3));
    cropFlipBatch(b, 2, [4, 4, 3], 2, new SeededRandom(3));
    expect(Array.from(a)).toEqual(Array.from(b));
    // Every output pixel is a whole input pixel of the same image (channel triple intact).
    for (let p = 0; p < 32; p++) {
      const r = a[3 * p]!;
      expect(r % 3).toBe(0);
      expect([a[3 * p + 1], a[3 * p + 2]]).toEqual([r + 1, r + 2]);
      expect(Math.floor(r / 48)).toBe(Math.floor(p / 16));
    }
  });
});
