// Looks up accuracies in the per-model results, the one source every table is derived from.
import { accuracy } from '../src/eval/index.js';
import type { Accuracy, AttackMode, Family, ModelResult } from './model-result.js';

export function findModel(models: ModelResult[], operator: string, training: string): ModelResult | undefined {
  return models.find((m) => m.model.operator === operator && m.model.training === training);
}

/** Robust accuracy of one attack (or `none`: clean accuracy; `worst`: per-point worst case). */
export function accuracyOf(m: ModelResult, mode: AttackMode | 'all', attack: string, epsilon: number): Accuracy | undefined {
  if (attack === 'none') return m.evaluation.clean;
  if (attack === 'worst') return m.worstCase.find((w) => w.mode === mode && sameEps(w.epsilon, epsilon))?.robust;
  return m.results.find((r) => r.mode === mode && r.attack === attack && sameEps(r.epsilon, epsilon))?.robust;
}

export function sameEps(a: number, b: number): boolean {
  return Math.abs(a - b) < 1e-9;
}

/** Pools the points of several models (same n each) into one accuracy with its interval. */
export function pooled(accuracies: Accuracy[]): Accuracy | undefined {
  if (accuracies.length === 0) return undefined;
  const correct = accuracies.reduce((a, b) => a + b.correct, 0);
  const n = accuracies.reduce((a, b) => a + b.n, 0);
  return accuracy(correct, n);
}

export function familyAccuracy(
  models: ModelResult[],
  family: Family,
  training: string,
  mode: AttackMode | 'all',
  attack: string,
  epsilon: number,
): Accuracy | undefined {
  const accs = models
    .filter((m) => m.model.family === family && m.model.training === training)
    .map((m) => accuracyOf(m, mode, attack, epsilon))
    .filter((a): a is Accuracy => a !== undefined);
  return pooled(accs);
}

export function pct(a: Accuracy | undefined, withInterval = true): string {
  if (!a || a.n === 0) return '—';
  const v = (a.accuracy * 100).toFixed(1);
  return withInterval ? `${v} (${(a.ci95[0] * 100).toFixed(1)}–${(a.ci95[1] * 100).toFixed(1)})` : v;
}

export function intervalsOverlap(a: Accuracy, b: Accuracy): boolean {
  return a.ci95[0] <= b.ci95[1] && b.ci95[0] <= a.ci95[1];
}
