// Checks on what the user hands the engine, before any attack runs.
import { AttackError } from '../../attacks/index.js';

/** Inputs must be in [0, 1]; says how to fix the usual mistakes (0-255, normalised). */
export function checkInputRange(images: Float32Array, count: number): void {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < count; i++) {
    const v = images[i]!;
    if (Number.isNaN(v)) throw new AttackError(`Inputs contain NaN at value ${i}: clean the data before attacking.`);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo >= 0 && hi <= 1) return;
  const hint =
    hi > 1 && hi <= 255 && lo >= 0
      ? 'They look like 0-255 pixels: divide by 255.'
      : lo < 0
        ? 'They look normalised (mean/std): pass raw [0, 1] pixels and put the normalisation inside the model.'
        : 'Rescale them to [0, 1].';
  throw new AttackError(`Inputs must be in [0, 1] (attacks clip to these bounds), got values in [${lo}, ${hi}]. ${hint}`);
}

export function checkLabels(labels: Int32Array, count: number, numClasses: number): void {
  for (let i = 0; i < count; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) {
      throw new AttackError(`Label ${y} of point ${i} is not a class of this model (it has ${numClasses} outputs).`);
    }
  }
}
