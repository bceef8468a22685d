// Paired comparisons on constructed per-point outcomes, against values computed here
// independently: binomial sums by hand, the Agresti-Min formula, the exact distribution of
// the two-stage bootstrap by enumeration; and a one-operator effect is not a family effect.
import { describe, expect, it } from 'vitest';
import { BUILTIN_PROFILES } from '../src/bench/profile.js';
import { compareAll, type Line } from '../reports/comparisons.js';
import { familyOf } from '../reports/model-result.js';
import { clusterBootstrap, holm, mcnemarComparison, mcnemarExact } from '../src/eval/paired-stats.js';
import { fakeResults } from './helpers/fake-results.js';

describe('exact McNemar and the paired interval', () => {
  it('match hand-computed values on two models with constructed outcomes', () => {
    // 20 shared test points: 7 only A robust, 2 only B robust, 6 both, 5 neither.
    const a = Uint8Array.from([...Array(7).fill(1), ...Array(2).fill(0), ...Array(6).fill(1), ...Array(5).fill(0)]);
    const b = Uint8Array.from([...Array(7).fill(0), ...Array(2).fill(1), ...Array(6).fill(1), ...Array(5).fill(0)]);
    const r = mcnemarComparison(a, b);
    expect([r.onlyA, r.onlyB]).toEqual([7, 2]);
    // P(X <= 2), X ~ Bin(9, 1/2): (C(9,0) + C(9,1) + C(9,2)) / 2^9 = (1 + 9 + 36) / 512; doubled.
    expect(r.p).toBeCloseTo((2 * 46) / 512, 12);
    expect(r.difference).toBeCloseTo(5 / 20, 12);
    // Agresti-Min: cells + 1/2 -> 7.5 and 2.5 of 22; d = 5/22, se = sqrt(10 - 25/22) / 22.
    const d = 5 / 22;
    const se = Math.sqrt(10 - 25 / 22) / 22;
    expect(r.ci95[0]).toBeCloseTo(d - 1.959963984540054 * se, 12);
    expect(r.ci95[1]).toBeCloseTo(d + 1.959963984540054 * se, 12);
    expect(r.ci95[0]).toBeCloseTo(-0.03796260, 7);
    // Symmetric and degenerate cases.
    expect(mcnemarExact(3, 3)).toBe(1);
    expect(mcnemarExact(0, 0)).toBe(1);
    expect(mcnemarExact(10, 0)).toBeCloseTo(2 / 1024, 15);
  });

  it('Holm adjusts step-down and keeps the order', () => {
    // Sorted 0.01, 0.02, 0.04 -> 3 x 0.01, max(0.03, 2 x 0.02), max(0.04, 0.04).
    holm([0.04, 0.01, 0.02]).forEach((p, i) => expect(p).toBeCloseTo([0.04, 0.03, 0.04][i]!, 15));
    // 2 x 0.5 = 1 caps, and the larger p cannot come out below it.
    expect(holm([0.5, 0.9])).toEqual([1, 1]);
  });
});

/** Exact distribution of the two-stage bootstrap mean: seeds drawn uniformly, then points. */
function exactBootstrap(diffs: number[][]): Array<[number, number]> {
  const S = diffs.length;
  // Distribution of the mean of n draws with replacement from one seed's points.
  const resampledMean = (d: number[]): Map<number, number> => {
    let dist = new Map<number, number>([[0, 1]]);
    for (let k = 0; k < d.length; k++) {
      const next = new Map<number, number>();
      for (const [s, p] of dist) for (const v of d) next.set(s + v, (next.get(s + v) ?? 0) + p / d.length);
      dist = next;
    }
    return new Map([...dist].map(([s, p]) => [s / d.length, p]));
  };
  const perSeed = diffs.map(resampledMean);
  // One drawn seed's contribution: a uniform mixture over seeds; S draws summed, then / S.
  const mixture = new Map<number, number>();
  for (const dist of perSeed) for (const [v, p] of dist) mixture.set(v, (mixture.get(v) ?? 0) + p / S);
  let total = new Map<number, number>([[0, 1]]);
  for (let s = 0; s < S; s++) {
    const next = new Map<number, number>();
    for (const [a, p] of total) for (const [v, q] of mixture) {
      const key = Math.round((a + v) * 1e9) / 1e9;
      next.set(key, (next.get(key) ?? 0) + p * q);
    }
    total = next;
  }
  return [...total].map(([v, p]) => [v / S, p] as [number, number]).sort((x, y) => x[0] - y[0]);
}

function exactQuantile(dist: Array<[number, number]>, q: number): number {
  let c = 0;
  for (const [v, p] of dist) {
    c += p;
    if (c >= q - 1e-12) return v;
  }
  return dist[dist.length - 1]![0];
}

describe('cluster bootstrap over seeds and test points', () => {
  it('gives the exact percentile interval of the two-stage resampling', () => {
    // Two seeds, four shared test points each; per-point paired differences A - B.
    const diffs = [
      [1, 0, 0, -1],
      [1, 1, 0, 0],
    ];
    const dist = exactBootstrap(diffs);
    const lo = exactQuantile(dist, 0.025);
    const hi = exactQuantile(dist, 0.975);
    // The interval is interior and not at a knife edge of the distribution.
    expect(lo).toBeGreaterThan(dist[0]![0]);
    expect(hi).toBeLessThan(dist[dist.length - 1]![0]);
    const r = clusterBootstrap(diffs, 100000, 1);
    expect(r.difference).toBeCloseTo((0 + 0.5) / 2, 12);
    expect(r.ci95[0]).toBeCloseTo(lo, 9);
    expect(r.ci95[1]).toBeCloseTo(hi, 9);
    expect(r.method).toBe('bootstrap');
  });
});

describe('family comparisons', () => {
  const profile = structuredClone(BUILTIN_PROFILES.quick!);
  profile.trainings = ['standard'];
  const line: Line = { mode: 'white-box', key: { name: 'bim', params: profile.evaluation.whiteBox[1]!.params }, title: 'BIM (white-box)', epsilons: [0.1] };
  const run = (robust: (op: string) => number) =>
    compareAll(fakeResults(profile, 200, (op, _t, mode, attack) => (attack === 'none' ? 180 : mode === 'noise' ? 150 : robust(op))), profile.operators, profile.trainings, [line], familyOf);

  it('reports a difference carried by one operator as that, not as a family effect', () => {
    // Every operator keeps 20 test points, except TanhConv which keeps 120.
    const cmp = run((op) => (op === 'tanh-cosine' ? 120 : 20));
    const fam = cmp.find((c) => c.kind === 'bounded-vs-unbounded')!;
    expect(fam.result.difference).toBeCloseTo(100 / 3 / 200, 12);
    expect(fam.result.ci95[0]).toBeGreaterThan(0);
    expect(fam.word).toBe('not a family effect');
    expect(fam.carriedBy).toEqual(['tanh-cosine']);
    // The operator itself is more robust than the baseline, with McNemar: 100 discordant, all one way.
    const tanh = cmp.find((c) => c.kind === 'operator-vs-baseline' && c.a === 'tanh-cosine')!;
    expect(tanh.result.p).toBeCloseTo(2 * 0.5 ** 100, 40);
    expect(tanh.word).toBe('more robust');
  });

  it('reports a difference every bounded operator shares as a family effect', () => {
    const cmp = run((op) => (/^(sphere|ball|tanh)-/.test(op) ? 60 : 20));
    const fam = cmp.find((c) => c.kind === 'bounded-vs-unbounded')!;
    expect(fam.word).toBe('more robust');
    expect(fam.leaveOneOut).toHaveLength(7);
    expect(fam.carriedBy).toBeUndefined();
  });

  it('pairs several seeds with the cluster bootstrap', () => {
    const models = [0, 1, 2].flatMap((seed) => fakeResults(profile, 50, (op, _t, _m, attack) => (attack === 'none' ? 45 : op === 'standard' ? 10 : 10 + seed * 5), seed));
    const cmp = compareAll(models, profile.operators, profile.trainings, [line], familyOf);
    const sphere = cmp.find((c) => c.kind === 'operator-vs-baseline' && c.a === 'sphere-cosine')!;
    expect(sphere.seeds).toBe(3);
    expect(sphere.result.method).toBe('bootstrap');
    // Mean over seeds of (0, 5, 10) / 50.
    expect(sphere.result.difference).toBeCloseTo(0.1, 12);
  });
});
