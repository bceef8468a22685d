// report.md: the paper's white-box and black-box tables (ours, then the paper's), the
// bounded-vs-unbounded summary, the gradient-masking verdicts, and every setting.
import type { PluginRecord } from '../attacks/plugins.js';
import type { BenchProfile } from '../src/bench/profile.js';
import type { SessionRecord } from '../src/bench/results-store.js';
import { formatDuration } from '../src/progress.js';
import { type Accuracy, type AttackMode, type Family, type ModelResult, operatorTitle } from './model-result.js';
import { PAPER_BLACK_BOX, PAPER_COLUMNS, PAPER_WHITE_BOX, type PaperTable } from './paper.js';
import { accuracyOf, familyAccuracy, findModel, intervalsOverlap, pct, pooled } from './tables.js';

export interface ReportInput {
  runName: string;
  profile: BenchProfile;
  models: ModelResult[];
  backend: string;
  toolkitVersion: string;
  /** Sum of the cells' wall times and the run's own wall time where known. */
  cellSeconds: number;
  /** Every `dcnet bench` invocation on the run folder (all shards). */
  sessions?: SessionRecord[];
  generatedAt: string;
  missing: string[];
  /** What examples.png shows, column by column. */
  examplesLegend?: string;
  /** Attack plugins the run loaded (pinned in the run folder). */
  plugins?: PluginRecord[];
}

const ATTACK_TITLES: Record<string, string> = { fgsm: 'FGSM', bim: 'BIM', pgd: 'PGD', 'mi-fgsm': 'MI-FGSM', square: 'Square', worst: 'worst case', none: 'none' };
const TRAINING_TITLES: Record<string, string> = { standard: 'standard training', 'fgsm-at': 'FGSM adv. trained', 'pgd-at': 'PGD adv. trained' };
const title = (a: string) => ATTACK_TITLES[a] ?? a;
const eps = (e: number) => `${+e.toFixed(4)}${Math.abs(e * 255 - Math.round(e * 255)) < 1e-6 ? ` (${Math.round(e * 255)}/255)` : ''}`;

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function table(header: string[], rows: string[][]): string {
  return [row(header), row(header.map(() => '---')), ...rows.map(row)].join('\n');
}

/** Our table in the paper's layout: rows per training x attack, columns per operator. */
export function paperLayoutTable(input: ReportInput, mode: AttackMode, attacks: string[], epsilon: number): string {
  const { profile, models } = input;
  const header = ['attack', ...profile.operators.map(operatorTitle)];
  const rows: string[][] = [];
  for (const training of profile.trainings) {
    for (const attack of ['none', ...attacks]) {
      const label = training === 'standard' ? title(attack) : `${title(attack)} (${TRAINING_TITLES[training]})`;
      rows.push([
        label,
        ...profile.operators.map((op) => {
          const m = findModel(models, op, training);
          return m ? pct(accuracyOf(m, mode, attack, epsilon)) : '—';
        }),
      ]);
    }
  }
  return table(header, rows);
}

function paperTable(p: PaperTable): string {
  const header = ['attack', ...PAPER_COLUMNS.map(operatorTitle)];
  const rows = p.rows.map((r) => [
    r.training === 'standard' ? title(r.attack) : `${title(r.attack)} (adv. trained)`,
    ...r.values.map((v) => v.toFixed(2)),
  ]);
  return `${p.caption}:\n\n${table(header, rows)}`;
}

const FAMILIES: Family[] = ['baseline', 'bounded', 'unbounded'];

/** Checks whose failure means the model's gradients cannot be trusted (gradient masking). */
const MASKING_CHECKS = new Set(['collapse-at-large-eps', 'white-box-vs-black-box', 'iterative-vs-single-step', 'more-iterations', 'random-noise-baseline', 'input-gradients']);

interface Comparison {
  training: string;
  mode: AttackMode | 'all';
  attack: string;
  acc: Record<Family, Accuracy | undefined>;
}

function comparisons(input: ReportInput): Comparison[] {
  const { profile, models } = input;
  const e = profile.evaluation.tableEpsilon;
  const lines: Array<[AttackMode | 'all', string]> = [
    ['white-box', 'none'],
    ...profile.evaluation.whiteBox.map((a) => ['white-box', a.name] as [AttackMode, string]),
    ['white-box', 'worst'],
    ...profile.evaluation.transfer.attacks.map((a) => ['transfer', a.name] as [AttackMode, string]),
    ...(profile.evaluation.transfer.attacks.length > 1 ? [['transfer', 'worst'] as [AttackMode, string]] : []),
    ['score-based', profile.evaluation.scoreBased.name],
    ['all', 'worst'],
  ];
  return profile.trainings.flatMap((training) =>
    lines.map(([mode, attack]) => ({
      training,
      mode,
      attack,
      acc: Object.fromEntries(FAMILIES.map((f) => [f, familyAccuracy(models, f, training, mode, attack, e)])) as Record<Family, Accuracy | undefined>,
    })),
  );
}

function describeGap(a: Accuracy | undefined, b: Accuracy | undefined): string {
  if (!a || !b) return '—';
  const d = (a.accuracy - b.accuracy) * 100;
  return `${d >= 0 ? '+' : ''}${d.toFixed(1)}${intervalsOverlap(a, b) ? ' (overlap)' : ''}`;
}

function summaryTable(cmp: Comparison[]): string {
  const header = ['training', 'attack', 'baseline', 'bounded', 'unbounded', 'bounded − unbounded (points)', 'bounded − baseline'];
  return table(
    header,
    cmp.map((c) => [
      TRAINING_TITLES[c.training] ?? c.training,
      c.attack === 'none' ? 'none (clean)' : `${title(c.attack)} ${c.mode === 'all' ? '(every attack, per point)' : `(${c.mode})`}`,
      pct(c.acc.baseline),
      pct(c.acc.bounded),
      pct(c.acc.unbounded),
      describeGap(c.acc.bounded, c.acc.unbounded),
      describeGap(c.acc.bounded, c.acc.baseline),
    ]),
  );
}

/** Plain-words answers to the report's questions, computed from the numbers. */
function findings(input: ReportInput, cmp: Comparison[]): string[] {
  const out: string[] = [];
  for (const c of cmp) {
    if (c.attack === 'none' || c.mode === 'score-based') continue;
    const { bounded, unbounded, baseline } = c.acc;
    if (!bounded || !unbounded) continue;
    const gap = (bounded.accuracy - unbounded.accuracy) * 100;
    const sure = !intervalsOverlap(bounded, unbounded);
    const where = `${c.mode === 'all' ? 'Every attack (per-point worst case)' : `${title(c.attack)} (${c.mode})`}, ${TRAINING_TITLES[c.training]}`;
    const vsBase = baseline ? `; the baseline keeps ${pct(baseline, false)}%` : '';
    out.push(
      `${where}: bounded operators keep ${pct(bounded, false)}%, unbounded ${pct(unbounded, false)}% ` +
        `(${gap >= 0 ? '+' : ''}${gap.toFixed(1)} points, ${sure ? 'intervals do not overlap' : 'intervals overlap: no clear difference'})${vsBase}.`,
    );
  }
  return out;
}

/** The report's question in one paragraph: which family is more robust, and is it real? */
function answer(input: ReportInput, cmp: Comparison[]): string {
  const pooledOver = (mode: AttackMode | 'all', attack: string, family: Family) =>
    pooled(cmp.filter((c) => c.mode === mode && c.attack === attack).map((c) => c.acc[family]).filter((a): a is Accuracy => a !== undefined));
  const compare = (mode: AttackMode | 'all', attack: string, what: string): string | undefined => {
    const b = pooledOver(mode, attack, 'bounded');
    const u = pooledOver(mode, attack, 'unbounded');
    const base = pooledOver(mode, attack, 'baseline');
    if (!b || !u) return undefined;
    const word = intervalsOverlap(b, u) ? 'about as robust as' : b.accuracy > u.accuracy ? 'more robust than' : 'less robust than';
    return `under ${what} bounded operators are ${word} unbounded ones (${pct(b, false)}% vs ${pct(u, false)}%${base ? `, baseline ${pct(base, false)}%` : ''})`;
  };
  const parts = [
    compare('white-box', 'fgsm', 'white-box FGSM'),
    compare('white-box', 'worst', 'the strongest white-box attack per point'),
    compare('transfer', 'worst', 'black-box transfer'),
  ].filter((p): p is string => p !== undefined);
  const flagged = (family: Family) => {
    const ms = input.models.filter((m) => m.model.family === family);
    const k = ms.filter((m) => m.sanity.some((s) => s.status === 'failed' && MASKING_CHECKS.has(s.id))).length;
    return `${family} ${k}/${ms.length}`;
  };
  if (parts.length === 0) return '';
  return (
    `**Answer** (eps ${eps(input.profile.evaluation.tableEpsilon)}, all trainings pooled): ${parts.join('; ')}. ` +
    `Models whose gradients fail a sanity check (robustness that may be gradient masking): ${(['baseline', 'bounded', 'unbounded'] as Family[]).map(flagged).join(', ')}. ` +
    'Only the numbers of models without such a flag, and the worst case over every attack, measure real robustness.'
  );
}

function maskingVerdicts(input: ReportInput): string[] {
  const e = input.profile.evaluation.tableEpsilon;
  return input.models.map((m) => {
    const failed = m.sanity.filter((s) => s.status === 'failed');
    const square = accuracyOf(m, 'score-based', input.profile.evaluation.scoreBased.name, e);
    const white = accuracyOf(m, 'white-box', 'worst', e);
    const masking = failed.filter((f) => MASKING_CHECKS.has(f.id));
    const verdict = masking.length
      ? `**robustness not trustworthy**: ${masking.map((f) => f.message).join(' ')}`
      : 'no sign of gradient masking: white-box attacks are at least as strong as the black-box ones and large epsilons collapse accuracy';
    return `- \`${m.model.id}\`: white-box worst case ${pct(white, false)}%, Square ${pct(square, false)}% at eps ${eps(e)}; ${verdict}`;
  });
}

function sanitySection(input: ReportInput): string[] {
  return input.models.flatMap((m) => {
    const failed = m.sanity.filter((s) => s.status === 'failed');
    const skipped = m.sanity.filter((s) => s.status === 'skipped');
    const passed = m.sanity.length - failed.length - skipped.length;
    const head = `- \`${m.model.id}\`: ${passed} checks passed, ${failed.length} failed, ${skipped.length} skipped${failed.length ? ':' : '.'}`;
    return [head, ...failed.map((f) => `  - **${f.id}**: ${f.message}`), ...skipped.map((f) => `  - ${f.id} (skipped): ${f.message}`)];
  });
}

function wallTime(input: ReportInput): string {
  const s = input.sessions ?? [];
  if (s.length === 0) return 'not recorded';
  const total = s.reduce((a, b) => a + b.wallSeconds, 0);
  const jobs = [...new Set(s.map((x) => x.jobs))].join('/');
  const shards = [...new Set(s.map((x) => x.shard))];
  return `${formatDuration(total)} over ${s.length} session(s) (${jobs} worker threads${shards.length > 1 ? `, shards ${shards.join(', ')}: summed` : ''})`;
}

/** What was trained: clean accuracy on the whole test split, time and speed. */
function modelsTable(input: ReportInput): string {
  return table(
    ['model', 'family', 'clean test acc (whole test split)', 'epochs', 'training time', 'train images/s'],
    input.models.map((m) => {
      const t = m.model.train;
      return [
        `\`${m.model.id}\``,
        m.model.family,
        t?.testAccuracy !== undefined ? `${(t.testAccuracy * 100).toFixed(2)}%` : '—',
        String(t?.epochs ?? '—'),
        t?.wallSeconds !== undefined ? formatDuration(t.wallSeconds) : '—',
        t?.imagesPerSecond !== undefined ? String(Math.round(t.imagesPerSecond)) : '—',
      ];
    }),
  );
}

function settings(input: ReportInput): string {
  const p = input.profile;
  const attacks = (list: Array<{ name: string; params?: Record<string, unknown>; epsilons?: number[] }>) =>
    list
      .map((a) => `${title(a.name)}${a.params ? ' ' + JSON.stringify(a.params) : ''}${a.epsilons ? ` at eps ${a.epsilons.map(eps).join(', ')} only` : ''}`)
      .join('; ');
  const src = p.evaluation.transfer.source;
  const rows: Array<[string, string]> = [
    ['profile', `${p.name}: ${p.description}`],
    ['data', `${p.dataset}${p.data ? ` from ${p.data}` : ''}; test points attacked: first ${p.evaluation.n} of the test split`],
    ['architecture', p.architecture],
    ['operators', p.operators.join(', ')],
    ['training', `${p.trainings.join(', ')}; ${p.train.epochs} epochs, batch ${p.train.batch}, Adam lr ${p.train.lr}${p.train.limit ? `, first ${p.train.limit} training images` : ''}; adversarial-training eps ${eps(p.train.eps)}`],
    ['seeds', `models s${p.seed}; attacks ${p.evaluation.seed}`],
    ['epsilons (Linf, [0,1] pixels)', p.evaluation.epsilons.map(eps).join(', ') + `; tables at ${eps(p.evaluation.tableEpsilon)}`],
    ['white-box attacks', attacks(p.evaluation.whiteBox)],
    ['black-box transfer', `${attacks(p.evaluation.transfer.attacks)}, computed white-box on the source \`${p.dataset}/${p.architecture}/${src.operator}/${src.training}/s${src.seed}\` (independently trained: other seed)`],
    ['score-based', `${attacks([p.evaluation.scoreBased])} on the same points`],
    ['accuracy definitions', 'robust accuracy = correct and not fooled, over all points (RobustBench); conditional = over clean-correct points (ART, in results.csv); 95% Wilson intervals'],
    ['backend', input.backend],
    ['toolkit', `dcnet-robustness ${input.toolkitVersion}`],
    ...(input.plugins?.length
      ? [['attack plugins', input.plugins.map((pl) => `${pl.name} (attacks ${pl.attacks.join(', ')}; \`${pl.path}\`, sha256 \`${pl.sha256}\`)`).join('; ')] as [string, string]]
      : []),
    ['wall time', wallTime(input)],
    ['compute', `${(input.cellSeconds / 60).toFixed(1)} cell-minutes (sum of every cell's own time)`],
    ['generated', input.generatedAt],
  ];
  return table(['setting', 'value'], rows.map(([k, v]) => [k, v.replace(/\|/g, '\\|')]));
}

export function renderMarkdown(input: ReportInput): string {
  const p = input.profile;
  const e = p.evaluation.tableEpsilon;
  const cmp = comparisons(input);
  const whiteAttacks = [...p.evaluation.whiteBox.map((a) => a.name), 'worst'];
  const transferAttacks = [...p.evaluation.transfer.attacks.map((a) => a.name), ...(p.evaluation.transfer.attacks.length > 1 ? ['worst'] : [])];
  const lines = [
    `# Robustness report: ${input.runName}`,
    '',
    `${p.dataset}, ${p.architecture}, ${input.models.length} models, ${p.evaluation.n} test points, Linf eps ${eps(e)} in the tables. ` +
      `Accuracy in %, with 95% Wilson intervals. Bounded operators: SphereConv, BallConv, TanhConv; unbounded: LinearConv, SegConv, LogConv, MixConv.`,
    ...(input.missing.length ? ['', `**Incomplete run**: no result yet for ${input.missing.join(', ')}.`] : []),
    '',
    '## Findings',
    '',
    ...(() => {
      const a = answer(input, cmp);
      return a ? [a, ''] : [];
    })(),
    ...(() => {
      const f = findings(input, cmp);
      return f.length ? f.map((x) => `- ${x}`) : ['- No bounded-vs-unbounded comparison: the profile needs operators of both families.'];
    })(),
    '',
    '### Is the robustness real? (gradient-masking checks)',
    '',
    ...maskingVerdicts(input),
    '',
    '## White-box robustness (attacks computed on the target itself)',
    '',
    paperLayoutTable(input, 'white-box', whiteAttacks, e),
    '',
    paperTable(PAPER_WHITE_BOX),
    '',
    '## Black-box robustness (transfer from an independently trained model)',
    '',
    paperLayoutTable(input, 'transfer', transferAttacks, e),
    '',
    paperTable(PAPER_BLACK_BOX),
    '',
    `Score-based black-box (${title(p.evaluation.scoreBased.name)}, the gradient-free check):`,
    '',
    paperLayoutTable(input, 'score-based', [p.evaluation.scoreBased.name], e),
    '',
    '## Bounded vs unbounded operators',
    '',
    `Each family's models pooled (every model's points together), eps ${eps(e)}.`,
    '',
    summaryTable(cmp),
    '',
    '## Sanity checks',
    '',
    ...sanitySection(input),
    '',
    '## Models',
    '',
    modelsTable(input),
    '',
    '## Settings',
    '',
    settings(input),
    '',
    'Every number above is derived from `models/*.json` (one result per model); `results.csv` lists every model x attack x epsilon. ' +
      'Plots: `accuracy-vs-eps-*.svg`.',
    ...(input.examplesLegend ? ['', input.examplesLegend] : []),
    '',
  ];
  return lines.join('\n');
}
