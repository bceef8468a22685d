// Example images carried in an evaluation result: a few test points, clean and adversarial,
// quantised to bytes so the result stays small.
import { tf } from '../src/tf.js';
import { logitsOf, perturb } from '../attacks/index.js';
import type { Tile } from './png.js';
import type { TestPoints } from '../src/data/load.js';

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

/** Test points shown in examples.png. */
export const EXAMPLE_POINTS = 6;

/** The first few test points and their adversarial images under one attack at one epsilon. */
export function exampleSet(
  model: tf.LayersModel,
  data: TestPoints,
  attack: { name: string; params?: Record<string, unknown> },
  epsilon: number,
  seed: number,
  points = EXAMPLE_POINTS,
): ExampleSet {
  const [h, w, c] = data.shape;
  const k = Math.min(points, data.count);
  const logits = logitsOf(model);
  const [clean, adv, cleanPred, advPred] = tf.tidy(() => {
    const x = tf.tensor4d(data.images.subarray(0, k * h * w * c), [k, h, w, c]);
    const y = tf.tensor1d(data.labels.subarray(0, k), 'int32');
    const xAdv = perturb(attack.name, logits, x, y, epsilon, attack.params, seed);
    return [x, xAdv, tf.argMax(logits(x), 1), tf.argMax(logits(xAdv), 1)];
  });
  const out: ExampleSet = {
    attack: attack.name,
    epsilon,
    shape: [h, w, c],
    indices: Array.from({ length: k }, (_, i) => i),
    labels: Array.from(data.labels.subarray(0, k)),
    cleanPredictions: Array.from(cleanPred!.dataSync()),
    adversarialPredictions: Array.from(advPred!.dataSync()),
    clean: encodeImages(clean!.dataSync()),
    adversarial: encodeImages(adv!.dataSync()),
  };
  tf.dispose([clean!, adv!, cleanPred!, advPred!]);
  return out;
}
