// Minimal epsilon per point: FAB-T's minimal norm on a linear model against the exact
// float64 distance to its decision boundaries, the summary statistics by hand, and the check
// that the accuracy-vs-epsilon curve reaches chance.
import { describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import { evaluate } from '../src/eval/index.js';
import { minimalEpsilons, reachesChance } from '../src/eval/minimal-epsilon.js';
import { summarizeMinimalEpsilons } from '../reports/minimal-epsilon.js';
import { linearModel, maskedGradient, pointsFor } from './helpers/tiny-models.js';

/** Smallest r with sum |w_i| min(r, u_i) >= c (c > 0), by float64 bisection. */
function boxRadius(p: number[], w: number[], c: number): number {
  const room = p.map((v, i) => (w[i]! > 0 ? 1 - v : w[i]! < 0 ? v : 0));
  const g = (r: number) => room.reduce((s, u, i) => s + Math.abs(w[i]!) * Math.min(r, u), 0);
  if (g(1) < c) return Infinity;
  let [lo, hi] = [0, 1];
  for (let k = 0; k < 100; k++) [lo, hi] = g((lo + hi) / 2) >= c ? [lo, (lo + hi) / 2] : [(lo + hi) / 2, hi];
  return hi;
}

describe('FAB-T minimal epsilon', () => {
  it('on a linear model lies between the exact distance to the nearest boundary and 1.06 times it', () => {
    const shape: [number, number, number] = [3, 3, 2];
    const K = 4;
    const D = 18;
    const model = linearModel(shape, K, 5, 0.5);
    const { x, labels } = pointsFor(model, 10, 3);
    const found = minimalEpsilons(model.logits, x, labels, { targets: K - 1, steps: 100 }, 0);
    const X = Array.from(x.dataSync());
    const Y = Array.from(labels.dataSync());
    found.forEach((d, i) => {
      const p = X.slice(i * D, (i + 1) * D);
      const z = Array.from({ length: K }, (_, k) => p.reduce((s, v, j) => s + v * model.w[j * K + k]!, model.b[k]!));
      const y = Y[i]!;
      // To be classified t, the input must cross z_t = z_y: a hyperplane, exact in float64.
      const exact = Math.min(
        ...Array.from({ length: K }, (_, t) => (t === y ? Infinity : boxRadius(p, p.map((_, j) => model.w[j * K + t]! - model.w[j * K + y]!), z[y]! - z[t]!))),
      );
      expect(d).not.toBeNull();
      expect(d!).toBeGreaterThanOrEqual(exact * (1 - 1e-4));
      expect(d!).toBeLessThanOrEqual(exact * 1.06);
    });
    tf.dispose([x, labels]);
    model.dispose();
  });
});

describe('minimal-epsilon summary', () => {
  it('quartiles, curve and chance by hand; the bootstrap interval holds the estimate and is seeded', () => {
    const per = [0, 0.1, 0.2, 0.3, null];
    const s = summarizeMinimalEpsilons(per, 10, 1);
    // Lower empirical quantiles of (0, 0.1, 0.2, 0.3, inf).
    expect([s.q1, s.median, s.q3]).toEqual([0.1, 0.2, 0.3]);
    expect(s.curve).toEqual([
      { epsilon: 0, accuracy: 0.8 },
      { epsilon: 0.1, accuracy: 0.6 },
      { epsilon: 0.2, accuracy: 0.4 },
      { epsilon: 0.3, accuracy: 0.2 },
    ]);
    expect(s.chanceAt).toBeNull(); // one point in five never fooled: 20% > 10% chance
    expect(s.ci95.median[0]!).toBeLessThanOrEqual(0.2);
    // The upper end may be beyond the box (null) when a resample's median is the unfooled point.
    expect(s.ci95.median[1] === null || s.ci95.median[1] >= 0.2).toBe(true);
    expect(summarizeMinimalEpsilons(per, 10, 1)).toEqual(s);
    const all = summarizeMinimalEpsilons([0.05, 0.1, 0.2, 0.3], 2, 0);
    expect(all.chanceAt).toBe(0.1); // 2 of 4 left at 0.1 = 50% = chance for 2 classes
    expect(reachesChance(per, 10).status).toBe('failed');
    expect(reachesChance(per, 4).status).toBe('passed');
  });
});

describe('minimal epsilon in evaluate', () => {
  it('reaches chance on an undefended model; a gradient-masked model is flagged', async () => {
    const shape: [number, number, number] = [3, 3, 2];
    const model = linearModel(shape, 4, 8, 0.5);
    const { x, labels } = pointsFor(model, 12, 4);
    const images = x.dataSync() as Float32Array;
    const lab = labels.dataSync() as Int32Array;
    const common = { images, labels: lab, shape, attacks: [{ name: 'fgsm', epsilons: [0.05] }], minimalEpsilon: { steps: 50 }, batch: 5 };
    const ok = await evaluate({ ...common, logits: model.logits });
    expect(ok.minimalEpsilon!.perPoint).toHaveLength(12);
    expect(ok.minimalEpsilon!.perPoint.every((d) => d !== null && d > 0)).toBe(true);
    expect(ok.checks.find((c) => c.id === 'minimal-eps-reaches-chance')!.status).toBe('passed');
    expect(JSON.parse(JSON.stringify(ok))).toEqual(ok);
    const masked = await evaluate({ ...common, logits: maskedGradient(model.logits) });
    expect(masked.minimalEpsilon!.perPoint.every((d) => d === null)).toBe(true);
    expect(masked.flags.map((c) => c.id)).toContain('minimal-eps-reaches-chance');
    tf.dispose([x, labels]);
    model.dispose();
  });
});
