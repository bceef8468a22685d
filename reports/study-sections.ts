// The report sections of a study with several seeds and an ablation: how much the results
// move between seeds, and whether the paper's regime (batch norm, learnable radius) changes
// the answer compared with the ablation's (no batch norm, fixed radius).
import { mcnemarComparison } from '../src/eval/paired-stats.js';
import type { Line } from './comparisons.js';
import { familyOf, type ModelResult, operatorTitle } from './model-result.js';
import { accuracyOf, outcomesOf, pct as withInterval, sameEps } from './tables.js';
import { decodeBits } from '../src/eval/index.js';

export interface StudyProfile {
  architecture: string;
  seed: number;
  trainings: string[];
  evaluation: { tableEpsilon: number };
  ablation?: { architecture: string; operators: string[]; trainings: string[]; learnableRadius?: boolean };
  train: { learnableRadius?: boolean };
}

const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
const table = (header: string[], rows: string[][]) => [row(header), row(header.map(() => '---')), ...rows.map(row)].join('\n');
const pct = (v: number) => (100 * v).toFixed(1);
const pp = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}`;

/** The lines at the table epsilon (clean included), as the comparisons read them. */
function tableLines(lines: Line[], epsilon: number): Line[] {
  return lines.filter((l) => l.key === 'none' || l.epsilons.some((e) => sameEps(e, epsilon)));
}

/** Per operator x training with several seeds: accuracy per seed, mean and standard deviation. */
export function seedVarianceSection(models: ModelResult[], lines: Line[], p: StudyProfile): string[] {
  const groups = new Map<string, ModelResult[]>();
  for (const m of models) {
    const key = `${m.model.operator}|${m.model.training}`;
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  const several = [...groups.values()].filter((g) => g.length > 1);
  if (!several.length) return [];
  const e = p.evaluation.tableEpsilon;
  const rows: string[][] = [];
  for (const g of several) {
    const sorted = [...g].sort((a, b) => a.model.seed - b.model.seed);
    for (const line of tableLines(lines, e)) {
      const values = sorted.map((m) => accuracyOf(m, line.mode, line.key, e)?.accuracy);
      if (values.some((v) => v === undefined)) continue;
      const v = values as number[];
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1));
      rows.push([
        operatorTitle(sorted[0]!.model.operator),
        sorted[0]!.model.training,
        line.title,
        sorted.map((m, i) => `s${m.model.seed} ${pct(v[i]!)}`).join(', '),
        `${pct(mean)} ± ${pct(sd)}`,
        `${pct(Math.max(...v) - Math.min(...v))}`,
      ]);
    }
  }
  return [
    '## Seed variance',
    '',
    `Models trained with several seeds (same recipe, other initial weights, shuffling and attack seeds in training), at eps ${+e.toFixed(4)}: ` +
      'robust accuracy (%) per seed, mean ± standard deviation over the seeds, and the range. The comparisons with the baseline above already ' +
      'use every seed the two operators share (two-stage cluster bootstrap: seeds, then test points), so their intervals include this variance.',
    '',
    table(['operator', 'training', 'attack', 'per seed', 'mean ± sd', 'range (pp)'], rows),
    '',
  ];
}

/** McNemar difference a - b on one line, or undefined if either model lacks it. */
function paired(a: ModelResult, b: ModelResult, line: Line, e: number) {
  const oa = outcomesOf(a, line.mode, line.key, e);
  const ob = outcomesOf(b, line.mode, line.key, e);
  if (!oa || !ob || oa.length !== ob.length) return undefined;
  return mcnemarComparison(oa, ob);
}

const describe = (r: NonNullable<ReturnType<typeof paired>>) =>
  `${pp(r.difference)} [${pp(r.ci95[0])}, ${pp(r.ci95[1])}] p ${r.p < 0.001 ? '< 0.001' : `= ${r.p.toPrecision(2)}`}`;

/**
 * The ablation: each of its models against the study's model of the same operator, training
 * and seed; and, with a bounded and an unbounded operator, the bounded - unbounded difference
 * in each regime, so the report says whether the regime changes the answer.
 */
export function ablationSection(study: ModelResult[], ablation: ModelResult[], lines: Line[], p: StudyProfile): string[] {
  const a = p.ablation;
  if (!a || !ablation.length) return [];
  const e = p.evaluation.tableEpsilon;
  const at = tableLines(lines, e);
  const twin = (m: ModelResult) => study.find((s) => s.model.operator === m.model.operator && s.model.training === m.model.training && s.model.seed === m.model.seed);
  const regime = (arch: string, learnable: boolean | undefined) => `${arch}, ${learnable ? 'learnable' : 'fixed'} radius`;
  const studyRegime = regime(p.architecture, p.train.learnableRadius);
  const ablationRegime = regime(a.architecture, a.learnableRadius);
  const rows: string[][] = [];
  for (const m of ablation) {
    const s = twin(m);
    if (!s) continue;
    for (const line of at) {
      const r = paired(s, m, line, e);
      if (!r) continue;
      rows.push([operatorTitle(m.model.operator), m.model.training, line.title, pct(accuracyOf(s, line.mode, line.key, e)!.accuracy), pct(accuracyOf(m, line.mode, line.key, e)!.accuracy), describe(r)]);
    }
  }
  const out = [
    '## Ablation: the paper\'s regime against no batch norm and a fixed radius',
    '',
    `The study's models (${studyRegime}) against the ablation's (${ablationRegime}), same operator, training and seed, paired on the same test points at eps ${+e.toFixed(4)}: ` +
      'robust accuracy (%) of each and the difference study − ablation in percentage points [95% Agresti-Min interval], exact McNemar p (not corrected for the number of rows).',
    '',
    table(['operator', 'training', 'attack', studyRegime, ablationRegime, 'study − ablation'], rows),
    '',
  ];
  const bounded = a.operators.find((o) => familyOf(o) === 'bounded');
  const unbounded = a.operators.find((o) => familyOf(o) === 'unbounded');
  if (!bounded || !unbounded) return out;
  const pick = (set: ModelResult[], op: string, t: string) => set.find((m) => m.model.operator === op && m.model.training === t && m.model.seed === p.seed);
  const answer: string[][] = [];
  let agree = 0;
  let total = 0;
  for (const t of a.trainings) {
    for (const line of at) {
      if (line.key === 'none') continue;
      const [sb, su, ab, au] = [pick(study, bounded, t), pick(study, unbounded, t), pick(ablation, bounded, t), pick(ablation, unbounded, t)];
      if (!sb || !su || !ab || !au) continue;
      const rs = paired(sb, su, line, e);
      const ra = paired(ab, au, line, e);
      if (!rs || !ra) continue;
      const sign = (r: typeof rs) => (r.ci95[0] > 0 ? 1 : r.ci95[1] < 0 ? -1 : 0);
      const same = sign(rs) === sign(ra);
      total++;
      if (same) agree++;
      answer.push([t, line.title, describe(rs), describe(ra), same ? 'same answer' : '**the regime changes the answer**']);
    }
  }
  if (!answer.length) return out;
  return [
    ...out,
    `${operatorTitle(bounded)} − ${operatorTitle(unbounded)} (bounded − unbounded) in each regime; an answer is "more robust", "less robust" or "no clear difference" by whether the interval excludes 0. ` +
      `The answers agree on ${agree} of ${total} rows.`,
    '',
    table(['training', 'attack', `${studyRegime}`, `${ablationRegime}`, 'verdict'], answer),
    '',
  ];
}

/**
 * The wide pass (cheap attacks on more test points): per model, clean accuracy and each row,
 * with the difference from the baseline of the same training (exact McNemar, same points).
 */
export function wideSection(models: ModelResult[], p: { evaluation: { tableEpsilon: number } }): string[] {
  const wide = models.filter((m) => m.wide && m.model.seed === models[0]?.model.seed);
  if (!wide.length) return [];
  const e = p.evaluation.tableEpsilon;
  const w0 = wide[0]!.wide!;
  const columns = [
    { title: 'clean', pick: (m: ModelResult) => ({ acc: m.wide!.clean, bits: m.wide!.cleanPerPoint }) },
    ...w0.results
      .filter((r) => sameEps(r.epsilon, e))
      .map((r) => ({
        title: r.mode === 'noise' ? 'random noise (worst of its draws)' : r.attack.toUpperCase(),
        pick: (m: ModelResult) => {
          const row = m.wide!.results.find((x) => x.mode === r.mode && x.attack === r.attack && sameEps(x.epsilon, e));
          return row ? { acc: row.robust, bits: row.perPoint } : undefined;
        },
      })),
  ];
  const baselineOf = (m: ModelResult) => wide.find((b) => b.model.family === 'baseline' && b.model.training === m.model.training);
  const rows = wide.map((m) => [
    `\`${m.model.id}\``,
    ...columns.map((c) => {
      const here = c.pick(m);
      if (!here) return '—';
      const base = baselineOf(m);
      const there = base && base !== m ? c.pick(base) : undefined;
      if (!there) return withInterval(here.acc);
      const r = mcnemarComparison(decodeBits(here.bits, m.wide!.n), decodeBits(there.bits, base!.wide!.n));
      return `${withInterval(here.acc)}; ${describe(r)} vs baseline`;
    }),
  ]);
  return [
    `## On ${w0.n} test points`,
    '',
    `Cheap attacks on more test points than the tables above (the wide pass), at eps ${+e.toFixed(4)}: robust accuracy (%) with its 95% Wilson interval, and for each operator the difference from the baseline of the same training in percentage points [95% interval], exact McNemar p, on the same ${w0.n} points.`,
    '',
    table(['model', ...columns.map((c) => c.title)], rows),
    '',
  ];
}
