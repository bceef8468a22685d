// report.md: findings from paired comparisons, what each row measures (masking, noise
// fragility, robustness), the paper's white-box and black-box tables (ours, then the
// paper's) with the random-noise rows, how this run differs from the paper, every setting.
import { DEFAULT_OPTIONS } from '../src/ops/options.js';
import type { PluginRecord } from '../attacks/plugins.js';
import { formatDuration } from '../src/progress.js';
import { attackLabel } from '../src/eval/index.js';
import { compareAll, describeBriefly, describeDifference, type Comparison, type Line } from './comparisons.js';
import { type AttackMode, familyOf, type ModelResult, operatorTitle } from './model-result.js';
import { PAPER_BLACK_BOX, PAPER_COLUMNS, PAPER_WHITE_BOX, type PaperTable } from './paper.js';
import { accuracyOf, type AttackRef, findModel, type LineKey, noiseMean, pct } from './tables.js';
import { paperClaimsSection } from './paper-claims.js';
import { sameSeedSourceRemark } from './source-seed.js';
import { ablationSection, seedVarianceSection, wideSection } from './study-sections.js';

/** An attack of the profile, as the report reads it. */
export interface ReportAttack {
  name: string;
  params?: Record<string, unknown>;
  epsilons?: number[];
}

/** What the report reads of a benchmark profile (the bench's profile satisfies it). */
export interface ReportProfile {
  name: string;
  description: string;
  dataset: string;
  data?: string;
  architecture: string;
  operators: string[];
  trainings: string[];
  seed: number;
  train: { epochs: number; batch: number; lr: number; eps: number; limit?: number; learnableRadius?: boolean };
  /** More seeds of some models, and an ablation on another architecture (see the bench profile). */
  extraSeeds?: Array<{ operators: string[]; trainings: string[]; seeds: number[] }>;
  ablation?: { architecture: string; operators: string[]; trainings: string[]; learnableRadius?: boolean };
  evaluation: {
    n: number;
    epsilons: number[];
    tableEpsilon: number;
    whiteBox: ReportAttack[];
    transfer: {
      source: { operator: string; training: string; seed: number };
      attacks: ReportAttack[];
      otherFamily?: { bounded: string; unbounded: string; training?: string; seed?: number };
    };
    scoreBased: ReportAttack;
    seed: number;
  };
}

/** One `dcnet bench` invocation on the run folder. */
export interface RunSession {
  shard: string;
  wallSeconds: number;
  jobs: number;
  machine?: { cpu: string; cores: number; node: string };
}

export interface ReportInput {
  runName: string;
  profile: ReportProfile;
  models: ModelResult[];
  backend: string;
  toolkitVersion: string;
  /** Sum of the cells' wall times. */
  cellSeconds: number;
  sessions?: RunSession[];
  generatedAt: string;
  missing: string[];
  /** What examples.png shows, column by column. */
  examplesLegend?: string;
  /** Attack plugins the run loaded (pinned in the run folder). */
  plugins?: PluginRecord[];
}

const ATTACK_TITLES: Record<string, string> = {
  fgsm: 'FGSM',
  bim: 'BIM',
  pgd: 'PGD',
  'mi-fgsm': 'MI-FGSM',
  square: 'Square',
  'apgd-ce': 'APGD-CE',
  'apgd-dlr': 'APGD-DLR',
  'apgd-t': 'APGD-T',
  'fab-t': 'FAB-T',
  autoattack: 'AutoAttack',
  worst: 'worst case',
  none: 'none',
};
const TRAINING_TITLES: Record<string, string> = { standard: 'standard training', 'fgsm-at': 'FGSM adv. trained', 'pgd-at': 'PGD adv. trained' };
const title = (a: string) => ATTACK_TITLES[a] ?? a;
const trainingTitle = (t: string) => TRAINING_TITLES[t] ?? t;
const eps = (e: number) => `${+e.toFixed(4)}${Math.abs(e * 255 - Math.round(e * 255)) < 1e-6 ? ` (${Math.round(e * 255)}/255)` : ''}`;

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function table(header: string[], rows: string[][]): string {
  return [row(header), row(header.map(() => '---')), ...rows.map(row)].join('\n');
}

/** Table rows for a list of attacks: the name, with the settings that differ when the name repeats. */
function attackLines(list: ReportAttack[]): Array<{ key: AttackRef; title: string; epsilons?: number[] }> {
  return list.map((a) => {
    const same = list.filter((b) => b.name === a.name);
    const differing = Object.fromEntries(Object.entries(a.params ?? {}).filter(([k, v]) => same.some((b) => b.params?.[k] !== v)));
    return {
      key: { name: a.name, ...(a.params ? { params: a.params } : {}) },
      title: same.length > 1 ? attackLabel(title(a.name), differing) : title(a.name),
      ...(a.epsilons ? { epsilons: a.epsilons } : {}),
    };
  });
}

type TableLine = { key: LineKey; title: string };

/** Our table in the paper's layout: rows per training x attack (then random noise), columns per operator. */
export function paperLayoutTable(input: ReportInput, mode: AttackMode, attacks: Array<string | TableLine>, epsilon: number): string {
  const { profile, models } = input;
  const header = ['attack', ...profile.operators.map(operatorTitle)];
  const lines: TableLine[] = attacks.map((a) => (typeof a === 'string' ? { key: a === 'none' || a === 'worst' ? a : { name: a }, title: title(a) } : a));
  const draws = models.flatMap((m) => m.results.filter((r) => r.mode === 'noise').map((r) => r.draws?.length ?? 0))[0];
  const rows: string[][] = [];
  for (const training of profile.trainings) {
    const suffix = training === 'standard' ? '' : ` (${trainingTitle(training)})`;
    const cells = (f: (m: ModelResult) => string) => profile.operators.map((op) => {
      const m = findModel(models, op, training);
      return m ? f(m) : '—';
    });
    for (const line of [{ key: 'none' as const, title: 'none' }, ...lines]) rows.push([`${line.title}${suffix}`, ...cells((m) => pct(accuracyOf(m, mode, line.key, epsilon)))]);
    if (draws) {
      rows.push([`random noise, worst of ${draws} draws${suffix}`, ...cells((m) => pct(accuracyOf(m, 'noise', 'noise', epsilon)))]);
      rows.push([`random noise, mean of ${draws} draws${suffix}`, ...cells((m) => {
        const v = noiseMean(m, epsilon);
        return v === undefined ? '—' : (100 * v).toFixed(1);
      })]);
    }
  }
  return table(header, rows);
}

function paperTable(p: PaperTable): string {
  const header = ['attack', ...PAPER_COLUMNS.map(operatorTitle)];
  const rows = p.rows.map((r) => [r.training === 'standard' ? title(r.attack) : `${title(r.attack)} (adv. trained)`, ...r.values.map((v) => v.toFixed(2))]);
  return `${p.caption}:\n\n${table(header, rows)}`;
}

/** Transfer lines from the other family's source (`transfer.otherFamily`), if the profile has one. */
function otherFamilyLines(profile: ReportProfile): ReturnType<typeof attackLines> {
  if (!profile.evaluation.transfer.otherFamily) return [];
  return attackLines(profile.evaluation.transfer.attacks).map((l) => ({ ...l, key: { ...l.key, sourceRole: 'other-family' as const }, title: `${l.title} from the other family` }));
}

/** The lines every comparison is made on. */
export function comparisonLines(profile: ReportProfile): Line[] {
  const e = profile.evaluation;
  const at = (a: { epsilons?: number[] }) => a.epsilons ?? e.epsilons;
  const transferMany = e.transfer.attacks.length > 1 || e.transfer.otherFamily !== undefined;
  return [
    { mode: 'white-box', key: 'none', title: 'clean', epsilons: [e.tableEpsilon] },
    ...attackLines(e.whiteBox).map((l) => ({ mode: 'white-box' as const, key: l.key, title: `${l.title} (white-box)`, epsilons: l.epsilons ?? e.epsilons })),
    { mode: 'white-box', key: 'worst', title: 'white-box worst case (per test point)', epsilons: e.epsilons },
    ...attackLines(e.transfer.attacks).map((l) => ({ mode: 'transfer' as const, key: l.key, title: `${l.title} (transfer)`, epsilons: l.epsilons ?? e.epsilons })),
    ...otherFamilyLines(profile).map((l) => ({ mode: 'transfer' as const, key: l.key, title: `${l.title} (transfer)`, epsilons: l.epsilons ?? e.epsilons })),
    ...(transferMany ? [{ mode: 'transfer' as const, key: 'worst' as const, title: 'transfer worst case (per test point)', epsilons: e.epsilons }] : []),
    { mode: 'score-based', key: { name: e.scoreBased.name, ...(e.scoreBased.params ? { params: e.scoreBased.params } : {}) }, title: `${title(e.scoreBased.name)} (score-based)`, epsilons: at(e.scoreBased) },
    { mode: 'all', key: 'worst', title: 'every attack, worst case per test point', epsilons: e.epsilons },
    { mode: 'noise', key: 'noise', title: 'random noise (worst of its draws)', epsilons: e.epsilons },
  ];
}

function familySentence(c: Comparison): string {
  const verdict =
    c.word === 'not a family effect'
      ? `**not a family effect**: the difference does not survive leaving out ${c.carriedBy!.map(operatorTitle).join(', ')}`
      : c.word === 'no clear difference'
        ? 'no clear difference'
        : `bounded operators **${c.word}** than unbounded ones`;
  return `${c.line.title}, ${trainingTitle(c.training)}: bounded − unbounded ${describeDifference(c)}: ${verdict}.`;
}

/** "3 trainings, 2 evaluations" from cell ids (`train:...`, `evaluate:...`). */
function countKinds(cells: string[]): string {
  const n = (kind: string) => cells.filter((c) => c.startsWith(`${kind}:`)).length;
  const part = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
  return [part(n('train'), 'training'), part(n('evaluate'), 'evaluation')].join(', ');
}

function findings(input: ReportInput, cmp: Comparison[]): string[] {
  const e = input.profile.evaluation.tableEpsilon;
  const family = cmp.filter((c) => c.kind === 'bounded-vs-unbounded' && (c.epsilon === e || c.line.key === 'none'));
  if (!input.models.length) return ['- No model evaluated yet.'];
  if (!family.length) return ['- No bounded-vs-unbounded comparison: the profile needs operators of both families.'];
  return family.map((c) => `- ${familySentence(c)}`);
}

/** Operators vs the baseline at the table epsilon: one row per training and line. */
function baselineTable(input: ReportInput, cmp: Comparison[]): string {
  const e = input.profile.evaluation.tableEpsilon;
  const ops = input.profile.operators.filter((o) => familyOf(o) !== 'baseline');
  const rows: string[][] = [];
  for (const training of input.profile.trainings) {
    for (const line of comparisonLines(input.profile)) {
      const here = cmp.filter((c) => c.kind === 'operator-vs-baseline' && c.training === training && c.line.title === line.title && (c.epsilon === e || line.key === 'none'));
      if (!here.length) continue;
      rows.push([
        trainingTitle(training),
        line.title,
        ...ops.map((op) => {
          const c = here.find((x) => x.a === op);
          return c ? describeBriefly(c) : '—';
        }),
      ]);
    }
  }
  return table(['training', 'attack', ...ops.map((o) => `${operatorTitle(o)} − baseline`)], rows);
}

const VERDICT_WORDS: Record<ModelResult['verdict']['label'], string> = {
  'gradient-masking': '**gradient masking**',
  'noise-fragile': '**noise-fragile**',
  'robustness-measured': 'robustness measured',
};

function verdictSection(input: ReportInput): string[] {
  return input.models.flatMap((m) => {
    const v = m.verdict;
    const unreliable = v.rows.filter((r) => r.verdict !== 'measures-robustness');
    return [
      `- \`${m.model.id}\`: ${VERDICT_WORDS[v.label]}: ${v.reason}.`,
      `  - rows that measure robustness: ${v.measuring.length ? v.measuring.join('; ') : 'none'}.`,
      ...(unreliable.length ? [`  - rows that do not: ${unreliable.map((r) => `${r.label} at eps ${r.epsilon} (${r.verdict}: ${r.reason})`).join('; ')}.`] : []),
    ];
  });
}

/** Ensemble rows member by member: robust accuracy after each member (cumulative). */
function membersSection(input: ReportInput): string[] {
  const rows = input.models.flatMap((m) => m.results.filter((r) => r.members).map((r) => ({ m, r })));
  if (!rows.length) return [];
  const names = rows[0]!.r.members!.map((x) => title(x.attack));
  return [
    '## AutoAttack member by member',
    '',
    'Robust accuracy (%) after each member, each run only on the test points the earlier members left robust (as AutoAttack reports it); the last column is the ensemble.',
    '',
    table(
      ['model', 'attack', 'eps', ...names.map((n) => `after ${n}`)],
      rows.map(({ m, r }) => [`\`${m.model.id}\``, r.label, eps(r.epsilon), ...r.members!.map((x) => (x.robust.accuracy * 100).toFixed(1))]),
    ),
    '',
  ];
}

/** Minimal epsilon per model (FAB-T upper bounds): quartiles with bootstrap intervals, chance. */
function minimalEpsilonSection(input: ReportInput): string[] {
  const measured = input.models.filter((m) => m.minimalEpsilon);
  if (!measured.length) return [];
  const v = (x: number | null) => (x === null ? 'not fooled' : x.toFixed(4));
  const ci = (c: [number | null, number | null]) => `[${v(c[0])}, ${v(c[1])}]`;
  const settings = JSON.stringify(measured[0]!.minimalEpsilon!.params);
  return [
    '## Minimal epsilon per test point',
    '',
    `The smallest Linf perturbation FAB-T (minimal-norm mode, ${settings}) found per test point (0 for clean mistakes; an upper bound on the true minimum). ` +
      'Median and quartiles over the test points with 95% bootstrap intervals; the last column is the epsilon at which accuracy reaches chance ' +
      '(the check `minimal-eps-reaches-chance` fails where it never does).',
    '',
    table(
      ['model', 'median (95% CI)', 'lower quartile (95% CI)', 'upper quartile (95% CI)', 'accuracy at chance from eps'],
      measured.map((m) => {
        const s = m.minimalEpsilon!;
        return [`\`${m.model.id}\``, `${v(s.median)} ${ci(s.ci95.median)}`, `${v(s.q1)} ${ci(s.ci95.q1)}`, `${v(s.q3)} ${ci(s.ci95.q3)}`, s.chanceAt === null ? '**never**' : v(s.chanceAt)];
      }),
    ),
    '',
  ];
}

/** Per decoupled model and layer: the share of input patches past the radius, clean and under attack. */
export function saturationSection(input: ReportInput): string[] {
  const measured = input.models.filter((m) => m.saturation?.layers.length);
  if (!measured.length) return [];
  const s0 = measured[0]!.saturation!;
  const pctOf = (v: number) => (100 * v).toFixed(1);
  return [
    '## Saturation of the decoupled layers',
    '',
    `Share (%) of input patches whose norm exceeds the layer's radius rho (with a learnable radius, rho = (r² + 1e-4) × the moving mean patch norm, per output channel: the share is over patches × channels), ` +
      `on the first ${s0.points} test points, clean and under ${title(s0.attack)} ${JSON.stringify(s0.params)} at eps ${eps(s0.epsilon)}. ` +
      "Past rho BallConv's magnitude is flat (no gradient in |x|) and TanhConv's is near 1; operators that do not use rho (SphereConv, LinearConv, LogConv, MixConv) are shown for comparison.",
    '',
    table(
      ['model', 'layer', 'operator', 'radius', 'mean rho', 'clean', 'adversarial'],
      measured.flatMap((m) =>
        m.saturation!.layers.map((l) => [
          `\`${m.model.id}\``,
          String(l.index + 1),
          operatorTitle(l.operator),
          `${l.radius}${l.usesRadius ? '' : ' (unused)'}`,
          l.meanRadius.toPrecision(3),
          pctOf(l.clean),
          pctOf(l.adversarial),
        ]),
      ),
    ),
    '',
  ];
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

/** Where the sittings ran: each distinct CPU / core count / Node the sessions recorded. */
function machineLine(input: ReportInput): string {
  const seen = (input.sessions ?? []).flatMap((x) => (x.machine ? [`${x.machine.cpu}, ${x.machine.cores} cores, Node ${x.machine.node}`] : []));
  return seen.length === 0 ? 'not recorded' : [...new Set(seen)].join('; ');
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

/**
 * The test points the models were actually attacked on (the split may hold fewer than the
 * profile asks for), with the request when it differs.
 */
export function pointsEvaluated(input: ReportInput): string {
  const requested = input.profile.evaluation.n;
  const counts = [...new Set(input.models.map((m) => m.evaluation.n))].sort((a, b) => a - b);
  if (!counts.length) return `no points yet (${requested} requested)`;
  const shown = counts.length === 1 ? String(counts[0]) : `${counts[0]}–${counts[counts.length - 1]}`;
  return counts.length === 1 && counts[0] === requested ? shown : `${shown} (${requested} requested)`;
}

const attacksText = (list: ReportAttack[]) =>
  list.map((a) => `${title(a.name)}${a.params ? ' ' + JSON.stringify(a.params) : ''}${a.epsilons ? ` at eps ${a.epsilons.map(eps).join(', ')} only` : ''}`).join('; ');

/** Architectures with batch norm after each convolution (architectures.ts). */
const BATCH_NORM: Record<string, boolean> = { 'small-cnn': false, 'small-cnn-bn': true, cnn9: true, resnet32: true };

/**
 * How this run differs from the paper, from the profile and the recipes recorded with the
 * models (the first model of each training), beside what the paper did or did not publish.
 */
export function paperDifferences(input: ReportInput): Array<[string, string, string]> {
  const p = input.profile;
  const e = p.evaluation;
  const recipeOf = (training: string) => input.models.find((m) => m.model.training === training && m.model.train?.recipe)?.model.train?.recipe;
  const any = p.trainings.map(recipeOf).find((r) => r !== undefined);
  // Operator options from a decoupled model's recipe (the baseline's has none).
  const decoupled = input.models.map((m) => m.model.train?.recipe).find((r) => r && Object.keys(r.operatorOptions ?? {}).length) ?? any;
  const opts = { ...DEFAULT_OPTIONS, ...(decoupled?.operatorOptions ?? {}) };
  const learnable = input.models.some((m) => (m.model.train?.recipe?.operatorOptions as { learnableRadius?: boolean } | undefined)?.learnableRadius === true);
  const seeds = [...new Set(input.models.map((m) => m.model.seed))];
  const perModel = new Map<string, number[]>();
  for (const m of input.models) perModel.set(`${operatorTitle(m.model.operator)} (${m.model.training})`, [...(perModel.get(`${operatorTitle(m.model.operator)} (${m.model.training})`) ?? []), m.model.seed]);
  const several = [...perModel].filter(([, v]) => v.length > 1);
  const seedText = several.length
    ? `s${p.seed} for every model; seeds ${several[0]![1].map((x) => `s${x}`).join(', ')} for ${several.map(([k]) => k).join(', ')}`
    : `${seeds.length} (s${seeds.join(', s')}) per operator`;
  const adv = p.trainings
    .filter((t) => t !== 'standard')
    .map((t) => {
      const a = recipeOf(t)?.adversarial;
      return a
        ? `${t}: ${a.attack.toUpperCase()} at eps ${eps(a.epsilon)} from the first step (no schedule), fraction ${a.fraction} of each batch, loss weight ${a.weight}, true labels${a.steps ? `, ${a.steps} steps of ${+a.stepSize!.toFixed(5)}` : ''}`
        : `${t}: eps ${eps(p.train.eps)} (recipe not recorded)`;
    });
  return [
    ['dataset', 'CIFAR-10 (50,000 training, 10,000 test images)', `${p.dataset}${p.data ? ` from ${p.data}` : ''}${p.train.limit ? `, first ${p.train.limit} training images` : ''}`],
    ['architecture', 'plain CNN-9 (and a CIFAR ResNet)', p.architecture],
    ['batch norm', 'after every convolution', BATCH_NORM[p.architecture] === undefined ? 'see architecture' : BATCH_NORM[p.architecture] ? 'after every convolution' : 'none'],
    ['operator radius', 'learnable (r initialised to 1, rho = (r² + 1e-4) × mean patch norm) or fixed', learnable ? 'learnable for the operators that use a radius (BallConv, TanhConv, SegConv), as in the paper' : `fixed at ${opts.radius}`],
    ['alpha / beta', '1 / 0.5 (authors\' code)', `${opts.alpha} / ${opts.beta}`],
    ['optimisation', 'Adam lr 1e-3 (x0.1 at 20k, 30k, 37.5k of 42.5k iterations), batch 128, label smoothing 0.01', any ? `Adam lr ${any.learningRate} constant, batch ${any.batchSize}, ${any.epochs} epochs, label smoothing ${any.labelSmoothing}` : `Adam lr ${p.train.lr}, batch ${p.train.batch}, ${p.train.epochs} epochs`],
    ['augmentation', '4-pixel reflect pad, random crop, horizontal flip', any?.augmentation ?? 'not recorded'],
    ['test points attacked', '10,000 (the whole test split)', `the first ${pointsEvaluated(input)} of the test split`],
    ['seeds', 'one model per operator (seed not published)', seedText],
    ['adversarial training', 'FGSM adversarial training; fraction, weight, labels and schedule not published', adv.length ? adv.join('; ') : 'none'],
    ['epsilon', 'not published', `${e.epsilons.map(eps).join(', ')}; tables at ${eps(e.tableEpsilon)}`],
    ['white-box attacks', 'FGSM, BIM (steps and step size not published)', attacksText(e.whiteBox)],
    ['transfer', 'FGSM, BIM from another model (source not published)', `${attacksText(e.transfer.attacks)} from ${e.transfer.source.operator}/${e.transfer.source.training}/s${e.transfer.source.seed}, every step on every point`],
    ['score-based attack', 'none', attacksText([e.scoreBased])],
  ];
}

function settings(input: ReportInput): string {
  const p = input.profile;
  const e = p.evaluation;
  const src = e.transfer.source;
  const differences = paperDifferences(input).map(([k, , ours]) => [k, ours] as [string, string]);
  const rows: Array<[string, string]> = [
    ['profile', `${p.name}: ${p.description}`],
    ...differences,
    ['operators', p.operators.join(', ')],
    ['trainings', `${p.trainings.join(', ')}; adversarial-training eps ${eps(p.train.eps)}`],
    ['attack seed', String(e.seed)],
    ['transfer source', `\`${p.dataset}/${p.architecture}/${src.operator}/${src.training}/s${src.seed}\` (independently trained: other seed); its examples run every step (no early stop on the source)`],
    ...(e.transfer.otherFamily
      ? [['second transfer source', `a model of the other operator family: bounded targets from ${operatorTitle(e.transfer.otherFamily.unbounded)}, the others from ${operatorTitle(e.transfer.otherFamily.bounded)} (${e.transfer.otherFamily.training ?? 'standard'} training, s${e.transfer.otherFamily.seed ?? p.seed})`] as [string, string]]
      : []),
    ['random noise', 'uniform +-eps sign noise, several draws per epsilon: worst case per test point and mean'],
    ['accuracy definitions', 'robust accuracy = correct and not fooled, over all test points (RobustBench); conditional = over clean-correct test points (ART, in results.csv); 95% Wilson intervals per model'],
    ['comparisons', 'paired on shared test points: exact McNemar + Agresti-Min interval (one seed), cluster bootstrap over seeds and test points (several); families by bootstrap with leave-one-operator-out; Holm over the comparisons at each epsilon'],
    ['backend', input.backend],
    ['toolkit', `dcnet-robustness ${input.toolkitVersion}`],
    ...(input.plugins?.length
      ? [['attack plugins', input.plugins.map((pl) => `${pl.name} (attacks ${pl.attacks.join(', ')}; \`${pl.path}\`, sha256 \`${pl.sha256}\`)`).join('; ')] as [string, string]]
      : []),
    ['machine', machineLine(input)],
    ['wall time', wallTime(input)],
    ['compute', `${(input.cellSeconds / 60).toFixed(1)} cell-minutes (sum of every cell's own time)`],
    ['generated', input.generatedAt],
  ];
  return table(['setting', 'value'], rows.map(([k, v]) => [k, v.replace(/\|/g, '\\|')]));
}

export function renderMarkdown(all: ReportInput): string {
  const p = all.profile;
  // The study's own models make every table; the ablation's (another architecture) have their section.
  const input = { ...all, models: all.models.filter((m) => m.model.architecture === p.architecture) };
  const ablation = all.models.filter((m) => m.model.architecture !== p.architecture);
  const e = p.evaluation.tableEpsilon;
  const cmp = compareAll(input.models, p.operators, p.trainings, comparisonLines(p), familyOf);
  const white = [...attackLines(p.evaluation.whiteBox), { key: 'worst' as const, title: title('worst') }];
  const transfer = [
    ...attackLines(p.evaluation.transfer.attacks),
    ...otherFamilyLines(p),
    ...(p.evaluation.transfer.attacks.length > 1 || p.evaluation.transfer.otherFamily ? [{ key: 'worst' as const, title: title('worst') }] : []),
  ];
  const lines = [
    `# Robustness report: ${input.runName}`,
    '',
    `${p.dataset}, ${p.architecture}, ${input.models.length} models, ${pointsEvaluated(input)} test points evaluated, Linf eps ${eps(e)} in the tables. ` +
      'Accuracy in %, with 95% Wilson intervals per model; differences between models in percentage points, paired on the same test points. ' +
      'Bounded operators: SphereConv, BallConv, TanhConv; unbounded: LinearConv, SegConv, LogConv, MixConv.',
    ...(input.missing.length
      ? ['', `**Incomplete run**: no result yet for ${input.missing.length} cell(s) (${countKinds(input.missing)}): ${input.missing.join(', ')}.`]
      : []),
    '',
    ...paperClaimsSection(cmp, e, eps(e), (op, training) => {
      const m = findModel(input.models, op, training, p.seed);
      return m ? accuracyOf(m, 'white-box', 'worst', e)?.accuracy : undefined;
    }),
    '## Findings: bounded vs unbounded operators',
    '',
    `Per test point, the bounded family's mean outcome minus the unbounded family's, at eps ${eps(e)}; 95% bootstrap interval, p-value and Holm-adjusted p-value. ` +
      'A difference is claimed only when the Holm-adjusted p is below 0.05 and the interval excludes 0; a family effect must also hold with any one operator left out.',
    '',
    ...findings(input, cmp),
    '',
    '## Each operator vs the baseline',
    '',
    `Difference in percentage points [95% interval], p-value and Holm-adjusted p-value, paired on the same test points at eps ${eps(e)}: ` +
      'exact McNemar test and Agresti-Min interval (one seed), cluster bootstrap (several seeds).',
    '',
    baselineTable(input, cmp),
    '',
    '## What each row measures (gradient masking, noise fragility, robustness)',
    '',
    ...verdictSection(all),
    '',
    '## White-box robustness (attacks computed on the target itself)',
    '',
    paperLayoutTable(input, 'white-box', white, e),
    '',
    paperTable(PAPER_WHITE_BOX),
    '',
    '## Black-box robustness (transfer from an independently trained model)',
    '',
    paperLayoutTable(input, 'transfer', transfer, e),
    '',
    paperTable(PAPER_BLACK_BOX),
    '',
    ...sameSeedSourceRemark(input.models, p, otherFamilyLines(p).at(-1)),
    `Score-based black-box (${title(p.evaluation.scoreBased.name)}, the gradient-free check):`,
    '',
    paperLayoutTable(input, 'score-based', attackLines([p.evaluation.scoreBased]), e),
    '',
    ...wideSection(input.models, p),
    ...seedVarianceSection(input.models, comparisonLines(p), p),
    ...ablationSection(input.models, ablation, comparisonLines(p), p),
    ...membersSection(input),
    ...minimalEpsilonSection(input),
    ...saturationSection(input),
    '## Sanity checks',
    '',
    ...sanitySection(all),
    '',
    '## Models',
    '',
    modelsTable(all),
    '',
    '## How this run differs from the paper',
    '',
    table(['setting', 'paper (Liu et al. 2018)', 'this run'], paperDifferences(input).map((r) => r.map((v) => v.replace(/\|/g, '\\|')))),
    '',
    '## Settings',
    '',
    settings(input),
    '',
    'Every number above is derived from `models/*.json` (one result per model, with per-test-point outcomes); `results.csv` lists every model x attack x epsilon, ' +
      'the random-noise rows included. Plots: `accuracy-vs-eps-*.svg`.',
    ...(input.examplesLegend ? ['', input.examplesLegend] : []),
    '',
  ];
  return lines.join('\n');
}
