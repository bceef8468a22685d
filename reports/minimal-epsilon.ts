// Minimal-epsilon statistics per model: median and quartiles of the per-point minimal epsilon
// with percentile-bootstrap 95% intervals, and the accuracy-vs-epsilon curve they imply, which
// continues until the model is at chance (or says it never gets there).
import { SeededRandom } from '../src/random.js';
import { accuracyAt } from '../src/eval/minimal-epsilon.js';
import { BOOTSTRAP_REPLICATES, quantile } from '../src/eval/paired-stats.js';

export interface MinimalEpsilonSummary {
  points: number;
  /** null: more than that share of the points was never fooled (the quantile is beyond the box). */
  median: number | null;
  q1: number | null;
  q3: number | null;
  ci95: { median: [number | null, number | null]; q1: [number | null, number | null]; q3: [number | null, number | null] };
  /** Accuracy just after each distinct minimal epsilon, from epsilon 0 up. */
  curve: Array<{ epsilon: number; accuracy: number }>;
  /** Chance level (1 / classes) and the first epsilon at which accuracy is at or below it. */
  chance: number;
  chanceAt: number | null;
}

const finite = (v: number) => (Number.isFinite(v) ? v : null);

export function summarizeMinimalEpsilons(perPoint: Array<number | null>, numClasses: number, seed = 0, replicates = BOOTSTRAP_REPLICATES): MinimalEpsilonSummary {
  const values = Float64Array.from(perPoint, (d) => (d === null ? Infinity : d)).sort();
  const n = values.length;
  const qs = [0.25, 0.5, 0.75] as const;
  const reps = qs.map(() => new Float64Array(replicates));
  const rng = new SeededRandom(seed ^ 0x4f1bbcdd);
  const rand = () => rng.next();
  const sample = new Float64Array(n);
  for (let r = 0; r < replicates; r++) {
    for (let i = 0; i < n; i++) sample[i] = values[Math.floor(rand() * n)]!;
    sample.sort();
    qs.forEach((q, k) => (reps[k]![r] = quantile(sample, q)));
  }
  const interval = (k: number): [number | null, number | null] => {
    const sorted = reps[k]!.sort();
    return [finite(quantile(sorted, 0.025)), finite(quantile(sorted, 0.975))];
  };
  const chance = 1 / numClasses;
  const steps = [0, ...new Set(Array.from(values).filter((v) => Number.isFinite(v) && v > 0))];
  const curve = steps.map((epsilon) => ({ epsilon, accuracy: accuracyAt(perPoint, epsilon) }));
  return {
    points: n,
    median: finite(quantile(values, 0.5)),
    q1: finite(quantile(values, 0.25)),
    q3: finite(quantile(values, 0.75)),
    ci95: { q1: interval(0), median: interval(1), q3: interval(2) },
    curve,
    chance,
    chanceAt: curve.find((c) => c.accuracy <= chance)?.epsilon ?? null,
  };
}
