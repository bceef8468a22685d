// Per-point worst case over attacks: a point is robust only if every attack fails on it
// (not the minimum of per-attack averages, which overstates robustness).
import type { RunRecord } from './checks.js';
import type { WorstCaseResult } from './types.js';
import { accuracy, countOnes } from './wilson.js';

export function worstCase(runs: Array<Pick<RunRecord, 'label' | 'epsilon' | 'robust'>>, n: number, cleanK: number): WorstCaseResult[] {
  const epsilons = [...new Set(runs.map((r) => r.epsilon))].sort((a, b) => a - b);
  return epsilons.flatMap((eps) => {
    const at = runs.filter((r) => r.epsilon === eps);
    if (at.length < 2) return [];
    const all = new Uint8Array(n);
    for (let i = 0; i < n; i++) all[i] = at.every((r) => r.robust[i]) ? 1 : 0;
    const k = countOnes(all);
    return [{ epsilon: eps, attacks: at.map((r) => r.label), robust: accuracy(k, n), conditionalRobust: accuracy(k, cleanK) }];
  });
}
