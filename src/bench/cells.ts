// The benchmark grid as cells: train a model, or evaluate one model under every attack.
// One evaluation cell per model keeps all its attacks together, which the per-point worst
// case and the cross-attack sanity checks need.
import { UserError } from '../errors.js';
import { formatZooId } from '../../models/zoo/index.js';
import type { DatasetName } from '../data/index.js';
import type { Architecture } from '../../models/architectures.js';
import type { BenchProfile, Training } from './profile.js';
import { familyOf } from '../../reports/model-result.js';

export interface ModelRef {
  id: string;
  operator: string;
  training: Training;
  seed: number;
  /** A model of the profile's ablation (another architecture), not of the study itself. */
  ablation?: true;
}

export interface TrainCell {
  kind: 'train';
  id: string;
  model: ModelRef;
}

export interface EvaluateCell {
  kind: 'evaluate';
  id: string;
  model: ModelRef;
  /** The transfer source (an independently trained model). */
  source: ModelRef;
  /** The second transfer source, of the other operator family (`transfer.otherFamily`). */
  otherSource?: ModelRef;
  /** Cells that must finish first (training of the model and of the source). */
  needs: string[];
}

export type Cell = TrainCell | EvaluateCell;

export function modelId(profile: BenchProfile, operator: string, training: Training, seed: number, architecture = profile.architecture): string {
  return formatZooId({
    dataset: profile.dataset as DatasetName,
    architecture: architecture as Architecture,
    operator,
    training,
    seed,
  });
}

function ref(profile: BenchProfile, operator: string, training: Training, seed: number): ModelRef {
  return { id: modelId(profile, operator, training, seed), operator, training, seed };
}

/**
 * Target models in table order: trainings outer, operators inner; then the extra seeds (in
 * the order listed), then the ablation's models.
 */
export function targetModels(profile: BenchProfile): ModelRef[] {
  const main = profile.trainings.flatMap((t) => profile.operators.map((op) => ref(profile, op, t, profile.seed)));
  const extra = (profile.extraSeeds ?? []).flatMap((x) =>
    x.seeds.flatMap((s) => x.trainings.flatMap((t) => x.operators.map((op) => ref(profile, op, t, s)))),
  );
  const a = profile.ablation;
  const ablation: ModelRef[] = a
    ? a.trainings.flatMap((t) => a.operators.map((op) => ({ id: modelId(profile, op, t, profile.seed, a.architecture), operator: op, training: t, seed: profile.seed, ablation: true as const })))
    : [];
  // An operator x training x seed listed twice is one model.
  const seen = new Set<string>();
  return [...main, ...extra, ...ablation].filter((m) => !seen.has(m.id) && seen.add(m.id));
}

export function sourceModel(profile: BenchProfile): ModelRef {
  const s = profile.evaluation.transfer.source;
  return ref(profile, s.operator, s.training, s.seed);
}

const trainCellId = (m: ModelRef) => `train:${m.id}`;
const evaluateCellId = (m: ModelRef) => `evaluate:${m.id}`;

/**
 * The target's source of the other operator family: a bounded target's is the unbounded
 * operator's model, every other target's (baseline, unbounded) the bounded one's.
 */
export function otherFamilySource(profile: BenchProfile, target: ModelRef): ModelRef | undefined {
  const o = profile.evaluation.transfer.otherFamily;
  if (!o) return undefined;
  const op = familyOf(target.operator) === 'bounded' ? o.unbounded : o.bounded;
  return ref(profile, op, o.training ?? 'standard', o.seed ?? profile.seed);
}

/** Every cell of the profile, in a deterministic order. */
export function planCells(profile: BenchProfile): Cell[] {
  const targets = targetModels(profile);
  const source = sourceModel(profile);
  if (targets.some((t) => t.id === source.id)) {
    // Transfer from the target itself is white-box, not black-box.
    throw new Error(
      `The transfer source ${source.id} is also a target: give it another seed so it is trained independently.`,
    );
  }
  const others = new Map(targets.map((t) => [t.id, otherFamilySource(profile, t)]));
  const trained = new Map([...targets, source, ...[...others.values()].filter((m): m is ModelRef => m !== undefined)].map((m) => [m.id, m]));
  const cells: Cell[] = [];
  for (const m of trained.values()) cells.push({ kind: 'train', id: trainCellId(m), model: m });
  for (const m of targets) {
    const other = others.get(m.id);
    cells.push({
      kind: 'evaluate',
      id: evaluateCellId(m),
      model: m,
      source,
      ...(other ? { otherSource: other } : {}),
      needs: [...new Set([trainCellId(m), trainCellId(source), ...(other ? [trainCellId(other)] : [])])],
    });
  }
  return cells;
}

export interface ShardSpec {
  index: number;
  count: number;
}

/**
 * The shard to run: `--shard i/n` (0-based i); else Kubernetes Indexed Jobs
 * (JOB_COMPLETION_INDEX, with the count from --shards or DCNET_SHARDS) or Slurm arrays
 * (SLURM_ARRAY_TASK_ID minus SLURM_ARRAY_TASK_MIN, of SLURM_ARRAY_TASK_COUNT); else 0/1.
 */
export function resolveShard(arg: string | undefined, env: NodeJS.ProcessEnv = process.env, countArg?: number): ShardSpec {
  if (arg !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(arg.trim());
    if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) {
      throw new ShardError(`Invalid --shard '${arg}': expected i/n with 0 <= i < n, e.g. 0/4.`);
    }
    return { index: Number(m[1]), count: Number(m[2]) };
  }
  let index: number;
  let count: number;
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    index = Number(env.JOB_COMPLETION_INDEX);
    count = countArg ?? Number(env.DCNET_SHARDS);
  } else if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    index = Number(env.SLURM_ARRAY_TASK_ID) - Number(env.SLURM_ARRAY_TASK_MIN ?? 0);
    count = countArg ?? Number(env.SLURM_ARRAY_TASK_COUNT ?? env.DCNET_SHARDS);
  } else {
    return { index: 0, count: 1 };
  }
  if (!Number.isInteger(count) || count < 1) {
    throw new ShardError(
      `A shard index is set in the environment but no shard count: pass --shards N (or set DCNET_SHARDS).`,
    );
  }
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new ShardError(`Shard index ${index} from the environment is outside 0..${count - 1}.`);
  }
  return { index, count };
}

export class ShardError extends UserError {
  override name = 'ShardError';
}

/**
 * The cells of one shard. All cells of one target model (its training and its evaluation)
 * go to the same shard, so shards need no shared state but the zoo; a transfer source is
 * trained by every shard that needs it (same seed, same weights; writes are atomic).
 */
export function shardCells(cells: Cell[], shard: ShardSpec): Cell[] {
  if (shard.count === 1) return cells;
  const evaluations = cells.filter((c): c is EvaluateCell => c.kind === 'evaluate');
  const mine = new Set(evaluations.filter((_, i) => i % shard.count === shard.index).map((c) => c.id));
  const needed = new Set<string>();
  for (const c of evaluations) if (mine.has(c.id)) c.needs.forEach((n) => needed.add(n));
  return cells.filter((c) => mine.has(c.id) || needed.has(c.id));
}
