// Accuracies with Wilson score intervals (good coverage near 0 and 1, unlike the normal one).
import type { Accuracy } from './types.js';

const Z95 = 1.959963984540054;

/** Wilson 95% interval of a proportion k/n; [0, 1] when n is 0. */
export function wilsonInterval(k: number, n: number, z = Z95): [number, number] {
  if (n === 0) return [0, 1];
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export function accuracy(correct: number, n: number): Accuracy {
  return { correct, n, accuracy: n === 0 ? 0 : correct / n, ci95: wilsonInterval(correct, n) };
}

/** Counts the ones in a 0/1 array, optionally only where `mask` is 1. */
export function countOnes(flags: Uint8Array, mask?: Uint8Array): number {
  let k = 0;
  for (let i = 0; i < flags.length; i++) if (flags[i] && (!mask || mask[i])) k++;
  return k;
}
