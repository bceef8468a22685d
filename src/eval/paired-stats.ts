// Paired statistics for comparing models evaluated on the same test points: exact McNemar
// test and Agresti-Min interval for one seed, a two-stage cluster bootstrap (seeds, then
// test points) for several, and Holm's correction for the number of comparisons.
import { SeededRandom } from '../random.js';

const Z95 = 1.959963984540054;

/** log(k!) by summing logs (exact enough for n up to millions; no Stirling error). */
function logFactorials(n: number): Float64Array {
  const out = new Float64Array(n + 1);
  for (let k = 1; k <= n; k++) out[k] = out[k - 1]! + Math.log(k);
  return out;
}

/**
 * Exact two-sided McNemar test: of the b + c discordant test points (b: only A robust,
 * c: only B robust), the smaller count under Binomial(b + c, 1/2), doubled, capped at 1.
 */
export function mcnemarExact(b: number, c: number): number {
  const m = b + c;
  if (m === 0) return 1;
  const lf = logFactorials(m);
  let tail = 0;
  for (let k = 0; k <= Math.min(b, c); k++) tail += Math.exp(lf[m]! - lf[k]! - lf[m - k]! - m * Math.LN2);
  return Math.min(1, 2 * tail);
}

/**
 * 95% interval of the paired difference of two proportions, (b - c) / n, by Agresti & Min
 * (2005): add 1/2 to each of the four cells of the paired table, then the Wald interval.
 */
export function pairedDifferenceInterval(b: number, c: number, n: number): [number, number] {
  const b1 = b + 0.5;
  const c1 = c + 0.5;
  const n1 = n + 2;
  const d = (b1 - c1) / n1;
  const se = Math.sqrt(b1 + c1 - ((b1 - c1) * (b1 - c1)) / n1) / n1;
  return [Math.max(-1, d - Z95 * se), Math.min(1, d + Z95 * se)];
}

export interface PairedResult {
  /** Mean difference A - B (a fraction; x100 for percentage points). */
  difference: number;
  ci95: [number, number];
  p: number;
  method: 'mcnemar' | 'bootstrap';
  /** Test points where only A / only B is robust (McNemar). */
  onlyA?: number;
  onlyB?: number;
}

/** Test points where only A is 1, and where only B is 1. */
export function discordantPairs(a: Uint8Array, b: Uint8Array): [number, number] {
  let onlyA = 0;
  let onlyB = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] && !b[i]) onlyA++;
    else if (!a[i] && b[i]) onlyB++;
  }
  return [onlyA, onlyB];
}

/** One seed, binary outcomes of A and B on the same test points. */
export function mcnemarComparison(a: Uint8Array, bFlags: Uint8Array): PairedResult {
  const [onlyA, onlyB] = discordantPairs(a, bFlags);
  return {
    difference: (onlyA - onlyB) / a.length,
    ci95: pairedDifferenceInterval(onlyA, onlyB, a.length),
    p: mcnemarExact(onlyA, onlyB),
    method: 'mcnemar',
    onlyA,
    onlyB,
  };
}

export const BOOTSTRAP_REPLICATES = 2000;

/** Inverse of the empirical distribution function (the smallest value with F(v) >= q). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * Two-stage cluster bootstrap of a mean per-point difference: `diffs[s][i]` is the paired
 * difference at test point i for seed s. Each replicate draws seeds with replacement, then
 * for each drawn seed its test points with replacement, and averages. Percentile interval;
 * p-value from the bootstrap standard error.
 */
export function clusterBootstrap(diffs: ArrayLike<number>[], replicates = BOOTSTRAP_REPLICATES, seed = 0): PairedResult {
  const rng = new SeededRandom(seed ^ 0x2545f491);
  const rand = () => rng.next();
  const S = diffs.length;
  const estimate = diffs.reduce((s, d) => s + mean(d), 0) / S;
  const reps = new Float64Array(replicates);
  for (let r = 0; r < replicates; r++) {
    let total = 0;
    for (let s = 0; s < S; s++) {
      const d = diffs[Math.floor(rand() * S)]!;
      let sum = 0;
      for (let i = 0; i < d.length; i++) sum += d[Math.floor(rand() * d.length)]!;
      total += sum / d.length;
    }
    reps[r] = total / S;
  }
  reps.sort();
  return { difference: estimate, ci95: [quantile(reps, 0.025), quantile(reps, 0.975)], p: normalP(estimate, standardDeviation(reps)), method: 'bootstrap' };
}

function standardDeviation(v: Float64Array): number {
  const m = mean(v);
  let s = 0;
  for (const x of v) s += (x - m) * (x - m);
  return Math.sqrt(s / Math.max(1, v.length - 1));
}

/**
 * Two-sided p-value of "difference 0" from the bootstrap standard error (normal
 * approximation): unlike counting replicates past 0, it is not floored at 1/B, which Holm's
 * correction over many comparisons needs.
 */
export function normalP(estimate: number, se: number): number {
  if (se === 0) return estimate === 0 ? 1 : 0;
  return Math.min(1, erfc(Math.abs(estimate / se) / Math.SQRT2));
}

/** Complementary error function (Numerical Recipes' erfcc: relative error below 1.2e-7 everywhere). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

function mean(d: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i]!;
  return s / d.length;
}

/** Holm's step-down adjusted p-values (same order as given). */
export function holm(ps: number[]): number[] {
  const order = ps.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(ps.length);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (ps.length - rank) * p));
    out[i] = running;
  });
  return out;
}
