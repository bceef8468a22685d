// Example images carried in an evaluation result: a few test points, clean and adversarial,
// quantised to bytes so the result stays small.
import type { Tile } from './png.js';

export interface ExampleSet {
  attack: string;
  epsilon: number;
  shape: [number, number, number];
  /** Test-set indices of the points shown. */
  indices: number[];
  labels: number[];
  cleanPredictions: number[];
  adversarialPredictions: number[];
  /** base64 of uint8 pixels (value * 255), one image after another. */
  clean: string;
  adversarial: string;
}

export function encodeImages(pixels: ArrayLike<number>): string {
  const bytes = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) bytes[i] = Math.round(Math.min(1, Math.max(0, pixels[i]!)) * 255);
  return Buffer.from(bytes).toString('base64');
}

export function decodeImages(b64: string, shape: [number, number, number]): Tile[] {
  const bytes = Buffer.from(b64, 'base64');
  const size = shape[0] * shape[1] * shape[2];
  const tiles: Tile[] = [];
  for (let off = 0; off + size <= bytes.length; off += size) {
    tiles.push({ pixels: Array.from(bytes.subarray(off, off + size), (b) => b / 255), shape });
  }
  return tiles;
}

/** The perturbation, mapped to grey 0.5 +- half scale at +-epsilon, so its pattern shows. */
export function perturbationTile(clean: Tile, adversarial: Tile, epsilon: number): Tile {
  const pixels = Array.from(clean.pixels, (c, i) => 0.5 + (adversarial.pixels[i]! - c) / (2 * epsilon));
  return { pixels, shape: clean.shape };
}
