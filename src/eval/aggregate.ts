// Per-point worst case over attacks: a point is robust only if every attack fails on it
// (not the minimum of per-attack averages, which overstates robustness).
import type { RunRecord } from './checks.js';
import type { WorstCaseResult } from './types.js';
import { accuracy, countOnes } from './wilson.js';

type Run = Pick<RunRecord, 'label' | 'epsilon' | 'robust'>;

/** Per point at one epsilon: 1 if every run at that epsilon leaves it robust. */
export function worstCaseBits(runs: Array<Pick<Run, 'epsilon' | 'robust'>>, epsilon: number, n: number): Uint8Array {
  const at = runs.filter((r) => r.epsilon === epsilon);
  const all = new Uint8Array(n);
  for (let i = 0; i < n; i++) all[i] = at.every((r) => r.robust[i]) ? 1 : 0;
  return all;
}

export function worstCase(runs: Run[], n: number, cleanK: number): WorstCaseResult[] {
  const epsilons = [...new Set(runs.map((r) => r.epsilon))].sort((a, b) => a - b);
  return epsilons.flatMap((eps) => {
    const at = runs.filter((r) => r.epsilon === eps);
    if (at.length < 2) return [];
    const k = countOnes(worstCaseBits(at, eps, n));
    return [{ epsilon: eps, attacks: at.map((r) => r.label), robust: accuracy(k, n), conditionalRobust: accuracy(k, cleanK) }];
  });
}
