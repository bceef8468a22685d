// What a run will cost before it starts: the work of every cell counted in images through
// the three measured step kinds (training step, forward pass, input gradient), times the
// per-image costs calibrated on the running backend.
import { getAttack } from '../../attacks/registry.js';
import { resolveParams } from '../../attacks/params.js';
import type { AttackDefinition, ParamValues } from '../../attacks/types.js';
import { autoAttack, autoAttackMembers } from '../../attacks/autoattack.js';
import { NOISE_DRAWS } from '../eval/plan.js';
import { MINIMAL_EPSILON_ATTACK } from '../eval/minimal-epsilon.js';
import { parseZooId, resolveRecipe } from '../../models/zoo/index.js';
import { type Cell, planCells, shardCells, type ShardSpec } from './cells.js';
import { trainOverrides } from './recipe-match.js';
import type { AttackSpec, BenchProfile } from './profile.js';

/** Images through each step kind. */
export interface Work {
  train: number;
  forward: number;
  inputGradient: number;
}

/** Seconds per image of each step kind, for one operator. */
export type UnitCost = Work;

const zero = (): Work => ({ train: 0, forward: 0, inputGradient: 0 });
function add(a: Work, b: Partial<Work>, times = 1): void {
  a.train += (b.train ?? 0) * times;
  a.forward += (b.forward ?? 0) * times;
  a.inputGradient += (b.inputGradient ?? 0) * times;
}

/**
 * One attack on one point at one epsilon: gradient attacks take steps x restarts input
 * gradients and a forward to score the result; score-based ones take `queries` forwards.
 * Early stopping only makes it cheaper: this is an upper bound.
 */
export function attackWork(spec: AttackSpec): Partial<Work> {
  const def = getAttack(spec.name);
  return workOf(def, resolveParams(def, spec.params ?? {}));
}

/**
 * steps x restarts x targets input gradients (targeted attacks run per target class); an
 * ensemble, the sum of its members (AutoAttack: APGD-CE, APGD-T, FAB-T, Square).
 */
function workOf(def: AttackDefinition, p: ParamValues): Partial<Work> {
  if (def.name === autoAttack.name) {
    const total = zero();
    for (const m of autoAttackMembers(p)) add(total, workOf(m.def, m.params));
    return total;
  }
  if (def.needs === 'outputs') return { forward: (p.queries as number | undefined) ?? 1 };
  const n = (k: string) => (p[k] as number | undefined) ?? 1;
  return { inputGradient: n('steps') * n('restarts') * n('targets'), forward: 1 };
}

export interface CellWork {
  cell: Cell;
  /** Work per operator id (an evaluation also runs its transfer source). */
  work: Map<string, Work>;
}

/** The images each cell puts through each step kind. */
export function cellWork(profile: BenchProfile, cell: Cell, sizes: { train: number; test: number }): CellWork {
  const work = new Map<string, Work>();
  const of = (op: string): Work => {
    let w = work.get(op);
    if (!w) work.set(op, (w = zero()));
    return w;
  };
  const op = cell.model.operator;
  if (cell.kind === 'train') {
    const recipe = resolveRecipe(parseZooId(cell.model.id), trainOverrides(profile, cell.model.id));
    const images = recipe.epochs * Math.min(sizes.train, profile.train.limit ?? Infinity);
    add(of(op), { train: images, forward: sizes.test });
    const adv = recipe.adversarial;
    if (adv) add(of(op), { inputGradient: adv.fraction * (adv.attack === 'pgd' ? (adv.steps ?? 1) : 1) }, images);
    return { cell, work };
  }
  const e = profile.evaluation;
  const n = Math.min(e.n, sizes.test);
  const epsCount = (a: AttackSpec) => (a.epsilons ?? e.epsilons).length;
  add(of(op), { forward: n });
  for (const a of [...e.whiteBox, e.scoreBased]) add(of(op), attackWork(a), n * epsCount(a));
  // The random-noise baseline at every epsilon, FAB-T's minimal epsilons, the saturation table.
  add(of(op), { forward: NOISE_DRAWS * e.epsilons.length * n });
  if (e.minimalEpsilon) add(of(op), attackWork({ name: MINIMAL_EPSILON_ATTACK, params: e.minimalEpsilon }), n);
  const shown = e.whiteBox.find((a) => a.name !== 'fgsm') ?? e.whiteBox[0];
  if (e.saturation && shown && op !== 'standard') add(of(op), attackWork(shown), Math.min(e.saturation.points, n));
  // The wide pass: its attacks and the noise baseline at their epsilons, on wide.n points.
  if (e.wide) {
    const wn = Math.min(e.wide.n, sizes.test);
    const eps = new Set<number>();
    add(of(op), { forward: wn });
    for (const a of e.wide.attacks) {
      add(of(op), attackWork(a), wn * epsCount(a));
      (a.epsilons ?? e.epsilons).forEach((x) => eps.add(x));
    }
    add(of(op), { forward: NOISE_DRAWS * eps.size * wn });
  }
  // Transfer: the target only scores the sources' examples (sourceWork computes them).
  const sources = cell.otherSource ? 2 : 1;
  for (const a of e.transfer.attacks) add(of(op), { forward: sources }, n * epsCount(a));
  return { cell, work };
}

/** The transfer examples of one source on the evaluated points (every attack and epsilon). */
export function sourceWork(profile: BenchProfile, sizes: { test: number }): Work {
  const e = profile.evaluation;
  const n = Math.min(e.n, sizes.test);
  const w = zero();
  for (const a of e.transfer.attacks) add(w, attackWork(a), n * (a.epsilons ?? e.epsilons).length);
  return w;
}

export interface Estimate {
  cells: CellWork[];
  /** Seconds of one worker, per cell kind. */
  seconds: { train: number; evaluate: number };
}

export function estimateCost(
  profile: BenchProfile,
  shard: ShardSpec,
  sizes: { train: number; test: number },
  unitCost: (operator: string) => UnitCost,
  /** Models that are not trained (committed ones): their train cells cost nothing. */
  notTrained: ReadonlySet<string> = new Set(),
  /** Worker threads: each computes a transfer source's examples once. */
  jobs = 1,
): Estimate {
  const cells = shardCells(planCells(profile), shard)
    .filter((c) => !(c.kind === 'train' && notTrained.has(c.model.id)))
    .map((c) => cellWork(profile, c, sizes));
  const seconds = { train: 0, evaluate: 0 };
  const cost = (op: string, w: Work) => {
    const u = unitCost(op);
    return w.train * u.train + w.forward * u.forward + w.inputGradient * u.inputGradient;
  };
  for (const { cell, work } of cells) for (const [op, w] of work) seconds[cell.kind] += cost(op, w);
  // Each worker computes a source's transfer examples once and keeps them for its next
  // targets: at most `jobs` times per source (fewer when it has fewer targets).
  const targetsOf = new Map<string, { operator: string; count: number }>();
  for (const { cell } of cells) {
    if (cell.kind !== 'evaluate') continue;
    for (const s of [cell.source, ...(cell.otherSource ? [cell.otherSource] : [])]) {
      const t = targetsOf.get(s.id) ?? { operator: s.operator, count: 0 };
      targetsOf.set(s.id, { ...t, count: t.count + 1 });
    }
  }
  for (const { operator, count } of targetsOf.values()) seconds.evaluate += Math.min(jobs, count) * cost(operator, sourceWork(profile, sizes));
  return { cells, seconds };
}
