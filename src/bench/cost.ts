// What a run will cost before it starts: the work of every cell counted in images through
// the three measured step kinds (training step, forward pass, input gradient), times the
// per-image costs calibrated on the running backend.
import { getAttack } from '../../attacks/registry.js';
import { resolveParams } from '../../attacks/params.js';
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
  const p = resolveParams(def, spec.params ?? {});
  if (def.needs === 'outputs') return { forward: (p.queries as number | undefined) ?? 1 };
  const iterations = ((p.steps as number | undefined) ?? 1) * ((p.restarts as number | undefined) ?? 1);
  return { inputGradient: iterations, forward: 1 };
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
    const recipe = resolveRecipe(parseZooId(cell.model.id), trainOverrides(profile, cell.model.training));
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
  // Transfer: the source's examples (computed once per worker and kept for its next
  // targets; counted with each cell, an upper bound), the target only scores them.
  for (const a of e.transfer.attacks) {
    add(of(cell.source.operator), attackWork(a), n * epsCount(a));
    add(of(op), { forward: 1 }, n * epsCount(a));
  }
  return { cell, work };
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
): Estimate {
  const cells = shardCells(planCells(profile), shard)
    .filter((c) => !(c.kind === 'train' && notTrained.has(c.model.id)))
    .map((c) => cellWork(profile, c, sizes));
  const seconds = { train: 0, evaluate: 0 };
  for (const { cell, work } of cells) {
    for (const [op, w] of work) {
      const u = unitCost(op);
      seconds[cell.kind] += w.train * u.train + w.forward * u.forward + w.inputGradient * u.inputGradient;
    }
  }
  return { cells, seconds };
}
