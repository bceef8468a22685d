// The benchmark profile's one schema: its TypeScript type is inferred from it and every
// profile (built-in, file, or after --set/--patch) is checked against it before any work.
// Adding a field: add it here (type, range, a line of help); the type follows.
import { z } from 'zod';
import { attackNames, getAttack } from '../../attacks/registry.js';
import { resolveParams } from '../../attacks/params.js';
import { MINIMAL_EPSILON_ATTACK } from '../eval/minimal-epsilon.js';
import { ARCHITECTURES } from '../../models/architectures.js';
import { TRAININGS } from '../../models/zoo/registry.js';
import { DATASET_NAMES } from '../data/datasets.js';
import { BOUNDED_MAGNITUDES, parseOperatorId } from '../ops/options.js';
import { didYouMean } from './did-you-mean.js';

/**
 * An object that refuses unknown keys, naming the nearest valid one (a typo in a profile
 * must not silently fall back to a default).
 */
function strict<T extends z.ZodRawShape>(shape: T) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown key${iss.keys.length > 1 ? 's' : ''} ${iss.keys.map((k) => `'${k}'${didYouMean(k, known)}`).join(', ')} (valid keys: ${known.join(', ')})`
        : undefined,
  });
}

const positiveInt = () => z.int().positive();
const seed = () => z.int().nonnegative().max(2 ** 31 - 1);
const epsilon = () =>
  z.number().gt(0, 'an Linf epsilon must be in (0, 1] on the [0, 1] pixel scale (8/255 = 0.0314, not 8)').lte(1, 'an Linf epsilon must be in (0, 1] on the [0, 1] pixel scale (8/255 = 0.0314, not 8)');

const operatorId = z.string().superRefine((id, ctx) => {
  try {
    parseOperatorId(id);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

/** One of a fixed list of names, with the nearest one suggested for a typo. */
function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, {
    error: (iss) => `${JSON.stringify(iss.input)} is not one of ${values.join(', ')}${typeof iss.input === 'string' ? didYouMean(iss.input, values) : ''}`,
  });
}

const training = oneOf(TRAININGS);

export const AttackSpecSchema = strict({
  /** Registered attack name (fgsm, bim, pgd, mifgsm, square, ...). */
  name: z.string().refine((n) => attackNames().includes(n), {
    error: (iss) => `unknown attack ${JSON.stringify(iss.input)}${didYouMean(String(iss.input), attackNames())} (registered: ${attackNames().join(', ')})`,
  }),
  /** Attack parameters, checked against the attack's declared parameter specs. */
  params: z.record(z.string(), z.unknown()).optional(),
  /** Epsilons of this attack, if not all of `evaluation.epsilons` (must include the table epsilon). */
  epsilons: z.array(epsilon()).min(1).optional(),
}).superRefine((a, ctx) => {
  // Refinements run even after a field failed: an unknown name is already reported.
  if (!attackNames().includes(a.name)) return;
  try {
    resolveParams(getAttack(a.name), a.params ?? {});
  } catch (err) {
    ctx.addIssue({ code: 'custom', path: ['params'], message: (err as Error).message });
  }
});

/** A plain folder name: it names the run folder under reports/. */
export const RUN_NAME = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/;

export const ProfileSchema = strict({
  name: z.string().regex(RUN_NAME, "must be a plain folder name: letters, digits, '.', '_' or '-' (it names the report folder)"),
  description: z.string(),
  /** Attack plugin modules: paths relative to the profile file, or package names. */
  plugins: z.array(z.string().trim().min(1, 'must be a module path (relative to the profile file) or a package name')).optional(),
  /** Dataset name and optional folder (set by --data). */
  dataset: oneOf(DATASET_NAMES),
  data: z.string().min(1).optional(),
  architecture: oneOf(ARCHITECTURES),
  /** Operator ids: standard, then bounded, then unbounded (order is kept in tables). */
  operators: z.array(operatorId).min(1),
  trainings: z.array(training).min(1),
  /** Seed of the target models. */
  seed: seed(),
  train: strict({
    epochs: positiveInt(),
    batch: positiveInt(),
    lr: z.number().positive(),
    /** Adversarial-training epsilon (Linf, [0,1] scale). */
    eps: z.number().nonnegative().lte(1),
    /** Train on the first `limit` training images only (all when unset). */
    limit: positiveInt().optional(),
    /**
     * A learnable radius per output channel for the decoupled operators that use a radius
     * (ball, tanh, seg), as the authors train them: rho = (r^2 + 1e-4) x mean patch norm.
     */
    learnableRadius: z.boolean().optional(),
  }),
  /**
   * More seeds of some target models (seed variance in the report): each entry adds every
   * operator x training x seed listed (seeds other than `seed`).
   */
  extraSeeds: z
    .array(strict({ operators: z.array(operatorId).min(1), trainings: z.array(training).min(1), seeds: z.array(seed()).min(1) }))
    .optional(),
  /**
   * The ablation: the same operators on another architecture (e.g. small-cnn, no batch
   * norm) with a fixed radius, attacked as the targets; the report compares them pairwise.
   */
  ablation: strict({
    architecture: oneOf(ARCHITECTURES),
    operators: z.array(operatorId).min(1),
    trainings: z.array(training).min(1),
    /** The ablation's radius: fixed (false, the default) or learnable. */
    learnableRadius: z.boolean().optional(),
  }).optional(),
  evaluation: strict({
    /** Test points attacked (the first n of the test split). */
    n: positiveInt(),
    batch: positiveInt(),
    epsilons: z.array(epsilon()).min(1),
    /** The epsilon the paper-layout tables show (one of `epsilons`). */
    tableEpsilon: epsilon(),
    whiteBox: z.array(AttackSpecSchema),
    /** Black-box transfer: adversarial examples from an independently trained source. */
    transfer: strict({
      source: strict({ operator: operatorId, training, seed: seed() }),
      attacks: z.array(AttackSpecSchema),
      /**
       * A second source per target, of the other operator family: bounded targets are attacked
       * with examples from the `unbounded` operator's model, every other target (baseline,
       * unbounded) from the `bounded` one's (both trained with `training` and `seed`, default
       * standard and the profile's seed).
       */
      otherFamily: strict({ bounded: operatorId, unbounded: operatorId, training: training.optional(), seed: seed().optional() }).optional(),
    }),
    /** Score-based black-box check against gradient masking (Square). */
    scoreBased: AttackSpecSchema,
    /** Minimal epsilon per test point: FAB-T's parameters (minimal-norm mode); absent: not measured. */
    minimalEpsilon: z.record(z.string(), z.unknown()).optional(),
    /**
     * The saturation table of each decoupled model on its first `points` test points, clean
     * and under the report's example attack (the first iterative white-box attack) at the
     * table epsilon; absent: not measured.
     */
    saturation: strict({ points: positiveInt() }).optional(),
    /**
     * Cheap attacks on more test points than `n` (e.g. FGSM on the whole test split), in a
     * second pass with the engine's noise baseline at their epsilons; reported in their own
     * section, never mixed with the `n`-point rows the comparisons pair.
     */
    wide: strict({ n: positiveInt(), attacks: z.array(AttackSpecSchema).min(1) }).optional(),
    seed: seed(),
  }),
}).superRefine((p, ctx) => {
  const issue = (path: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path, message });
  const duplicates = (path: Array<string | number>, values: unknown[], what: (i: number) => string) => {
    const seen = new Set<unknown>();
    for (const [i, v] of values.entries()) {
      if (seen.has(v)) issue([...path, i], `${what(i)} appears twice`);
      seen.add(v);
    }
  };
  const e = p.evaluation;
  duplicates(['operators'], p.operators, (i) => `operator "${p.operators[i]}"`);
  for (const [i, x] of (p.extraSeeds ?? []).entries()) {
    for (const [j, op] of x.operators.entries()) if (!p.operators.includes(op)) issue(['extraSeeds', i, 'operators', j], `operator "${op}" is not one of the profile's operators (${p.operators.join(', ')})`);
    for (const [j, t] of x.trainings.entries()) if (!p.trainings.includes(t)) issue(['extraSeeds', i, 'trainings', j], `training "${t}" is not one of the profile's trainings (${p.trainings.join(', ')})`);
    for (const [j, sd] of x.seeds.entries()) if (sd === p.seed) issue(['extraSeeds', i, 'seeds', j], `seed ${sd} is the profile's own seed: list other seeds`);
  }
  if (p.ablation) {
    const a = p.ablation;
    // Model ids name the architecture, not the radius: the ablation's models need their own ids.
    if (a.architecture === p.architecture) issue(['ablation', 'architecture'], `the ablation needs another architecture than the study's ${p.architecture} (e.g. small-cnn for small-cnn-bn)`);
    for (const [j, op] of a.operators.entries()) if (!p.operators.includes(op)) issue(['ablation', 'operators', j], `operator "${op}" is not one of the profile's operators (the ablation is compared with them)`);
    for (const [j, t] of a.trainings.entries()) if (!p.trainings.includes(t)) issue(['ablation', 'trainings', j], `training "${t}" is not one of the profile's trainings`);
  }
  duplicates(['trainings'], p.trainings, (i) => `training "${p.trainings[i]}"`);
  duplicates(['evaluation', 'epsilons'], e.epsilons, (i) => `epsilon ${e.epsilons[i]}`);
  // One attack may run twice with other settings (an effort check), never identically.
  const setting = (a: AttackSpec) => JSON.stringify({ name: a.name, params: a.params ?? {}, epsilons: a.epsilons ?? e.epsilons });
  duplicates(['evaluation', 'whiteBox'], e.whiteBox.map(setting), (i) => `attack ${e.whiteBox[i]!.name} with the same settings`);
  duplicates(['evaluation', 'transfer', 'attacks'], e.transfer.attacks.map(setting), (i) => `attack ${e.transfer.attacks[i]!.name} with the same settings`);
  if (!e.epsilons.includes(e.tableEpsilon)) issue(['evaluation', 'tableEpsilon'], `${e.tableEpsilon} must be one of evaluation.epsilons (${e.epsilons.join(', ')})`);
  const attacks: Array<[Array<string | number>, { name: string; epsilons?: number[] | undefined }]> = [
    ...e.whiteBox.map((a, i) => [['evaluation', 'whiteBox', i], a] as [Array<string | number>, typeof a]),
    ...e.transfer.attacks.map((a, i) => [['evaluation', 'transfer', 'attacks', i], a] as [Array<string | number>, typeof a]),
    [['evaluation', 'scoreBased'], e.scoreBased],
  ];
  for (const [path, a] of attacks) {
    if (a.epsilons && !a.epsilons.includes(e.tableEpsilon)) {
      issue([...path, 'epsilons'], `the epsilons of ${a.name} must include the table epsilon ${e.tableEpsilon}`);
    }
  }
  if (e.wide) {
    if (e.wide.n <= e.n) issue(['evaluation', 'wide', 'n'], `${e.wide.n} must exceed evaluation.n (${e.n}): the wide pass is for more points`);
    e.wide.attacks.forEach((a, i) => {
      if (attackNames().includes(a.name) && getAttack(a.name).needs === 'outputs') issue(['evaluation', 'wide', 'attacks', i, 'name'], `${a.name} is score-based: the wide pass takes white-box attacks`);
    });
  }
  if (e.minimalEpsilon) {
    try {
      resolveParams(getAttack(MINIMAL_EPSILON_ATTACK), e.minimalEpsilon);
    } catch (err) {
      issue(['evaluation', 'minimalEpsilon'], (err as Error).message);
    }
  }
  if (attackNames().includes(e.scoreBased.name) && getAttack(e.scoreBased.name).needs !== 'outputs') {
    issue(['evaluation', 'scoreBased', 'name'], `${e.scoreBased.name} uses gradients; the score-based check needs an attack that only queries outputs (e.g. square)`);
  }
  const s = e.transfer.source;
  const other = e.transfer.otherFamily;
  if (other) {
    const family = (op: string) => {
      try {
        const { magnitude } = parseOperatorId(op);
        return magnitude === 'standard' ? 'baseline' : BOUNDED_MAGNITUDES.includes(magnitude) ? 'bounded' : 'unbounded';
      } catch {
        return undefined; // already reported by the operator id's own check
      }
    };
    for (const k of ['bounded', 'unbounded'] as const) {
      const f = family(other[k]);
      if (f !== undefined && f !== k) issue(['evaluation', 'transfer', 'otherFamily', k], `"${other[k]}" is ${f === 'baseline' ? 'the baseline' : `a${f === 'unbounded' ? 'n' : ''} ${f} operator`}: give a${k === 'unbounded' ? 'n' : ''} ${k} one`);
    }
  }
  for (const [i, x] of (p.extraSeeds ?? []).entries()) {
    if (x.seeds.includes(s.seed) && x.operators.includes(s.operator) && x.trainings.includes(s.training)) {
      issue(['extraSeeds', i, 'seeds'], `seed ${s.seed} of ${s.operator}/${s.training} is the transfer source: give the extra seeds other values`);
    }
  }
  if (s.seed === p.seed && p.operators.includes(s.operator) && p.trainings.includes(s.training)) {
    // Transfer from the target itself is white-box, not black-box.
    issue(['evaluation', 'transfer', 'source', 'seed'], `the transfer source ${s.operator}/${s.training} with seed ${s.seed} is also a target: give it a seed other than ${p.seed} so it is trained independently`);
  }
});

export type BenchProfile = z.infer<typeof ProfileSchema>;
export type AttackSpec = z.infer<typeof AttackSpecSchema>;

/** `evaluation.whiteBox.1.params` style, as --set takes it. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.length ? path.map(String).join('.') : '(top level)';
}

/** Every problem of a profile, one per line entry (empty when it is valid). */
export function profileIssues(input: unknown): { profile?: BenchProfile; problems: string[] } {
  const r = ProfileSchema.safeParse(input);
  if (r.success) return { profile: r.data, problems: [] };
  return { problems: r.error.issues.map((i) => `${formatPath(i.path)}: ${i.message.replace(/\.$/, '')}`) };
}
