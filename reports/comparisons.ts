// Paired comparisons behind the report's findings, from per-point outcomes on shared test
// points: every operator against the baseline, and the bounded family against the
// unbounded family, per training, attack (or clean, worst case, noise) and epsilon.
//
// - Operator vs baseline: one seed, exact McNemar test and Agresti-Min interval; several
//   seeds, the two-stage cluster bootstrap (seeds, then test points).
// - Family vs family: the per-point difference of the families' mean outcomes, bootstrapped
//   (with seeds when there are several). An effect counts as a family effect only if it
//   survives leaving out any one operator of either family (same sign, interval excluding
//   0): a difference carried by one operator is reported as that, not as a family effect.
// - Holm's correction over all comparisons at one epsilon; words come from the adjusted
//   p-value together with the interval (a difference is claimed only if both agree).
import type { AttackMode, Family, ModelResult } from './model-result.js';
import { clusterBootstrap, holm, mcnemarComparison, type PairedResult } from '../src/eval/paired-stats.js';
import { type LineKey, outcomesOf } from './tables.js';

export const ALPHA = 0.05;

export interface Line {
  mode: AttackMode | 'all';
  key: LineKey;
  /** For people: "BIM (white-box)", "every attack, per point", "clean". */
  title: string;
  epsilons: number[];
}

export type Word = 'more robust' | 'less robust' | 'no clear difference' | 'not a family effect';

export interface Comparison {
  training: string;
  line: Line;
  epsilon: number;
  kind: 'operator-vs-baseline' | 'bounded-vs-unbounded';
  /** Operator id or family name; the difference is a - b. */
  a: string;
  b: string;
  seeds: number;
  points: number;
  result: PairedResult;
  holmP: number;
  word: Word;
  /** Claimed family differences: the difference without each operator, and who carries it if not all do. */
  leaveOneOut?: Array<{ without: string; difference: number; ci95: [number, number] }>;
  carriedBy?: string[];
}

const excludesZero = (ci: [number, number]) => ci[0] > 0 || ci[1] < 0;

/** Outcomes of one (operator, training) per seed, at one line and epsilon. */
function outcomesBySeed(models: ModelResult[], operator: string, training: string, line: Line, eps: number): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  for (const m of models) {
    if (m.model.operator !== operator || m.model.training !== training) continue;
    const o = outcomesOf(m, line.mode, line.key, eps);
    if (o) out.set(m.model.seed, o);
  }
  return out;
}

function sharedSeeds(maps: Array<Map<number, Uint8Array>>): number[] {
  const [first, ...rest] = maps;
  if (!first) return [];
  return [...first.keys()].filter((s) => rest.every((m) => m.has(s) && m.get(s)!.length === first.get(s)!.length)).sort((x, y) => x - y);
}

/** Per seed, per test point: mean outcome of family A minus that of family B. */
function familyDiffs(a: Array<Map<number, Uint8Array>>, b: Array<Map<number, Uint8Array>>, seeds: number[]): Float64Array[] {
  return seeds.map((s) => {
    const n = a[0]!.get(s)!.length;
    const d = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let sa = 0;
      let sb = 0;
      for (const m of a) sa += m.get(s)![i]!;
      for (const m of b) sb += m.get(s)![i]!;
      d[i] = sa / a.length - sb / b.length;
    }
    return d;
  });
}

function pairDiffs(a: Map<number, Uint8Array>, b: Map<number, Uint8Array>, seeds: number[]): Float64Array[] {
  return seeds.map((s) => Float64Array.from(a.get(s)!, (v, i) => v - b.get(s)![i]!));
}

export function compareAll(models: ModelResult[], operators: string[], trainings: string[], lines: Line[], familyOf: (op: string) => Family): Comparison[] {
  // Leave-one-out bootstraps are computed only for family differences that are claimed.
  const out: Array<Omit<Comparison, 'holmP' | 'word' | 'leaveOneOut'> & { leaveOneOut?: () => NonNullable<Comparison['leaveOneOut']> }> = [];
  const baseline = operators.find((o) => familyOf(o) === 'baseline');
  for (const training of trainings) {
    for (const line of lines) {
      for (const eps of line.epsilons) {
        const by = new Map(operators.map((op) => [op, outcomesBySeed(models, op, training, line, eps)]));
        const present = operators.filter((op) => by.get(op)!.size > 0);
        const base = { training, line, epsilon: eps };
        if (baseline && present.includes(baseline)) {
          for (const op of present.filter((o) => o !== baseline)) {
            const seeds = sharedSeeds([by.get(op)!, by.get(baseline)!]);
            if (!seeds.length) continue;
            const result =
              seeds.length === 1
                ? mcnemarComparison(by.get(op)!.get(seeds[0]!)!, by.get(baseline)!.get(seeds[0]!)!)
                : clusterBootstrap(pairDiffs(by.get(op)!, by.get(baseline)!, seeds));
            out.push({ ...base, kind: 'operator-vs-baseline', a: op, b: baseline, seeds: seeds.length, points: by.get(op)!.get(seeds[0]!)!.length, result });
          }
        }
        const bounded = present.filter((o) => familyOf(o) === 'bounded');
        const unbounded = present.filter((o) => familyOf(o) === 'unbounded');
        if (!bounded.length || !unbounded.length) continue;
        const maps = (ops: string[]) => ops.map((o) => by.get(o)!);
        const seeds = sharedSeeds(maps([...bounded, ...unbounded]));
        if (!seeds.length) continue;
        const result = clusterBootstrap(familyDiffs(maps(bounded), maps(unbounded), seeds));
        // Leave one operator out of either family (if the family keeps at least one).
        const leaveOneOut = () =>
          [...bounded, ...unbounded]
            .filter((op) => (familyOf(op) === 'bounded' ? bounded : unbounded).length > 1)
            .map((op) => {
              const r = clusterBootstrap(familyDiffs(maps(bounded.filter((o) => o !== op)), maps(unbounded.filter((o) => o !== op)), seeds));
              return { without: op, difference: r.difference, ci95: r.ci95 };
            });
        out.push({ ...base, kind: 'bounded-vs-unbounded', a: 'bounded', b: 'unbounded', seeds: seeds.length, points: by.get(bounded[0]!)!.get(seeds[0]!)!.length, result, leaveOneOut });
      }
    }
  }
  // Holm over every comparison at the same epsilon (clean comparisons form their own group).
  const groups = new Map<string, number[]>();
  out.forEach((c, i) => {
    const g = c.line.key === 'none' ? 'clean' : String(c.epsilon);
    groups.set(g, [...(groups.get(g) ?? []), i]);
  });
  const adjusted = new Array<number>(out.length);
  for (const idx of groups.values()) holm(idx.map((i) => out[i]!.result.p)).forEach((p, j) => (adjusted[idx[j]!] = p));
  return out.map(({ leaveOneOut: looFn, ...c }, i) => {
    const holmP = adjusted[i]!;
    const sign = Math.sign(c.result.difference);
    const claimed = holmP < ALPHA && excludesZero(c.result.ci95);
    let word: Word = claimed ? (sign > 0 ? 'more robust' : 'less robust') : 'no clear difference';
    const leaveOneOut = claimed && looFn ? looFn() : undefined;
    const carriedBy = leaveOneOut?.filter((l) => !excludesZero(l.ci95) || Math.sign(l.difference) !== sign).map((l) => l.without);
    if (carriedBy?.length) word = 'not a family effect';
    return { ...c, holmP, word, ...(leaveOneOut ? { leaveOneOut } : {}), ...(carriedBy?.length ? { carriedBy } : {}) };
  });
}

/** A fraction as signed percentage points: 0.123 -> "+12.3". */
export const signedPoints = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}`;
const pp = signedPoints;

/** "+12.3 [+4.0, +20.1]": the difference and its 95% interval, in percentage points. */
export function differenceWithInterval(c: Comparison): string {
  return `${pp(c.result.difference)} [${pp(c.result.ci95[0])}, ${pp(c.result.ci95[1])}]`;
}
const pValue = (x: number) => (x < 0.001 ? '< 0.001' : `= ${x.toPrecision(2)}`);

/** "+12.3 percentage points (95% CI +4.0 to +20.1; exact McNemar p = 0.003, Holm p = 0.04)". */
export function describeDifference(c: Comparison): string {
  const test = c.result.method === 'mcnemar' ? 'exact McNemar' : `bootstrap over ${c.seeds > 1 ? `${c.seeds} seeds and ` : ''}test points`;
  return `${pp(c.result.difference)} percentage points (95% CI ${pp(c.result.ci95[0])} to ${pp(c.result.ci95[1])}; ${test} p ${pValue(c.result.p)}, Holm p ${pValue(c.holmP)})`;
}

/** For table cells: "+12.3 [+4.0, +20.1] p = 0.003, Holm p = 0.04: more robust". */
export function describeBriefly(c: Comparison): string {
  return `${differenceWithInterval(c)} p ${pValue(c.result.p)}, Holm p ${pValue(c.holmP)}: ${c.word}`;
}
