// Wilson score interval (95%): honest at accuracies near 0 and 1, unlike the normal one.
import type { Accuracy } from './model-result.js';

const Z95 = 1.959963984540054;

export function wilson(correct: number, n: number, z = Z95): Accuracy {
  if (n === 0) return { value: NaN, lo: NaN, hi: NaN, correct, n };
  const p = correct / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { value: p, lo: Math.max(0, centre - half), hi: Math.min(1, centre + half), correct, n };
}
