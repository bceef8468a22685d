// Looks up accuracies and per-point outcomes in the per-model results, the one source every
// table, plot and comparison is derived from.
import { decodeBits } from '../src/eval/index.js';
import type { Accuracy, AttackMode, AttackRow, ModelResult } from './model-result.js';

/** An attack as the profile names it: a row matches when every given parameter matches. */
export interface AttackRef {
  name: string;
  params?: Record<string, unknown>;
  /** Transfer rows: from the other family's source (absent: the independent source). */
  sourceRole?: 'other-family';
}

/** `none`: clean; `worst`: per-point worst case of the mode; `noise`: the random-noise row. */
export type LineKey = AttackRef | 'none' | 'worst' | 'noise';

export function findModel(models: ModelResult[], operator: string, training: string, seed?: number): ModelResult | undefined {
  return models.find((m) => m.model.operator === operator && m.model.training === training && (seed === undefined || m.model.seed === seed));
}

export function sameEps(a: number, b: number): boolean {
  return Math.abs(a - b) < 1e-9;
}

export function rowOf(m: ModelResult, mode: AttackMode, ref: AttackRef, epsilon: number): AttackRow | undefined {
  return m.results.find(
    (r) =>
      r.mode === mode &&
      r.attack === ref.name &&
      sameEps(r.epsilon, epsilon) &&
      r.sourceRole === ref.sourceRole &&
      Object.entries(ref.params ?? {}).every(([k, v]) => r.params[k] === v),
  );
}

function lookup(m: ModelResult, mode: AttackMode | 'all', line: LineKey, epsilon: number): { robust: Accuracy; perPoint: string } | undefined {
  if (line === 'none') return { robust: m.evaluation.clean, perPoint: m.evaluation.cleanPerPoint };
  if (line === 'worst') return m.worstCase.find((w) => w.mode === mode && sameEps(w.epsilon, epsilon));
  if (line === 'noise') return m.results.find((r) => r.mode === 'noise' && sameEps(r.epsilon, epsilon));
  return mode === 'all' ? undefined : rowOf(m, mode, line, epsilon);
}

/** Robust accuracy of one line (an attack, `none`, `worst` or `noise`) at one epsilon. */
export function accuracyOf(m: ModelResult, mode: AttackMode | 'all', line: LineKey | string, epsilon: number): Accuracy | undefined {
  return lookup(m, mode, typeof line === 'string' && !['none', 'worst', 'noise'].includes(line) ? { name: line } : (line as LineKey), epsilon)?.robust;
}

/** Per test point, 1 = robust, for one line at one epsilon. */
export function outcomesOf(m: ModelResult, mode: AttackMode | 'all', line: LineKey, epsilon: number): Uint8Array | undefined {
  const found = lookup(m, mode, line, epsilon);
  return found ? decodeBits(found.perPoint, m.evaluation.n) : undefined;
}

/** Mean accuracy of the noise draws at one epsilon. */
export function noiseMean(m: ModelResult, epsilon: number): number | undefined {
  return m.results.find((r) => r.mode === 'noise' && sameEps(r.epsilon, epsilon))?.mean;
}

export function pct(a: Accuracy | undefined, withInterval = true): string {
  if (!a || a.n === 0) return '—';
  const v = (a.accuracy * 100).toFixed(1);
  return withInterval ? `${v} (${(a.ci95[0] * 100).toFixed(1)}–${(a.ci95[1] * 100).toFixed(1)})` : v;
}
