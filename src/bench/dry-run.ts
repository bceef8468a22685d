// `dcnet bench --dry-run`: the cells, models and attacks a run would do, and what it would
// cost on this machine's backend, without training or attacking anything.
import { datasetSpec } from '../data/datasets.js';
import type { Calibrator } from './calibration.js';
import { modelId, type ShardSpec } from './cells.js';
import { trainOverrides } from './recipe-match.js';
import { attackWork, estimateCost, type Estimate, type UnitCost } from './cost.js';
import type { AttackSpec, BenchProfile } from './profile.js';
import { STEP_KINDS, type StepKind } from '../perf/steps.js';

export interface DryRunOptions {
  profile: BenchProfile;
  shard: ShardSpec;
  jobs: number;
  backend: string;
  sizes: { train: number; test: number };
  calibrator: Calibrator;
  /** Largest batch a calibration step uses (the run's batches, capped at this). */
  calibrationBatch?: number;
  /** Progress lines (calibration can take a minute on big networks). */
  log?: (line: string) => void;
  /** Models read from the profile's committed zoo: attacked, not trained. */
  committed?: string[];
}

export interface DryRun {
  text: string;
  estimate: Estimate;
  /** Estimated seconds of one worker for the whole shard. */
  cpuSeconds: number;
}

const hours = (s: number) => (s / 3600 >= 10 ? (s / 3600).toFixed(0) : (s / 3600).toFixed(2));

function describeAttack(a: AttackSpec, epsilons: number[]): string {
  const w = attackWork(a);
  const eps = (a.epsilons ?? epsilons).length;
  const what = w.inputGradient ? `${w.inputGradient} gradient(s)` : `${w.forward} queries`;
  return `${a.name} (${what} per point, ${eps} eps)`;
}

export function dryRun(o: DryRunOptions): DryRun {
  const { profile } = o;
  const log = o.log ?? (() => {});
  const spec = datasetSpec(profile.dataset);
  const [h, w] = profile.dataset === 'cifar10' ? [32, 32] : [28, 28];
  const inputShape: [number, number, number] = [h, w, profile.dataset === 'cifar10' ? 3 : 1];
  // Small networks are calibrated near the run's batch: at 32, per-call overheads made
  // small-cnn-bn's per-image costs about 1.5x those at 128 (measured on process CPU time).
  const cap = o.calibrationBatch ?? (profile.architecture.startsWith('small-cnn') ? 128 : 32);
  const batches: Record<StepKind, number> = {
    train: Math.min(profile.train.batch, cap),
    forward: Math.min(profile.evaluation.batch, cap),
    inputGradient: Math.min(profile.evaluation.batch, cap),
  };
  // Every operator is calibrated, with the options the profile trains it with: their costs
  // differ (measured on small-cnn-bn, wasm, training images/s: SphereConv 807, BallConv with a
  // learnable radius 548, TanhConv with one 375).
  const learnable = (op: string) => trainOverrides(profile, modelId(profile, op, 'standard', profile.seed)).operatorOptions?.learnableRadius === true;
  const measured = new Map<string, { cost: UnitCost; cached: boolean }>();
  const calibrate = (operator: string): { cost: UnitCost; cached: boolean } => {
    const cost = {} as UnitCost;
    let cached = true;
    for (const step of STEP_KINDS) {
      log(`calibrating ${profile.architecture} ${operator}${learnable(operator) ? ' (learnable radius)' : ''} ${step} on ${o.backend} (batch ${batches[step]})...`);
      const m = o.calibrator.measure({
        backend: o.backend, architecture: profile.architecture, operator, step, inputShape, classes: spec.numClasses, batch: batches[step], steps: 2,
        ...(learnable(operator) ? { learnableRadius: true } : {}),
      });
      cost[step] = m.cost.secondsPerImage;
      cached &&= m.cached;
    }
    return { cost, cached };
  };
  const unitCost = (op: string): UnitCost => {
    let m = measured.get(op);
    if (!m) measured.set(op, (m = calibrate(op)));
    return m.cost;
  };
  const committed = o.committed ?? [];
  const estimate = estimateCost(profile, o.shard, o.sizes, unitCost, new Set(committed), o.jobs);
  const cpuSeconds = estimate.seconds.train + estimate.seconds.evaluate;
  const trains = estimate.cells.filter((c) => c.cell.kind === 'train');
  const evals = estimate.cells.filter((c) => c.cell.kind === 'evaluate');
  const e = profile.evaluation;
  const lines = [
    `dry run: profile ${profile.name} (${profile.dataset}, ${profile.architecture}), shard ${o.shard.index}/${o.shard.count}: nothing is trained or attacked`,
    `data: ${o.sizes.train} training images, ${o.sizes.test} test images; ${Math.min(e.n, o.sizes.test)} points attacked per model`,
    `cells: ${estimate.cells.length + committed.length} (${trains.length + committed.length} train, ${evals.length} evaluate)`,
    `models to train (${trains.length}, ${profile.train.epochs} epochs each):`,
    ...trains.map((c) => `  ${c.cell.model.id}`),
    ...(committed.length ? [`committed models, verified, attacked without training (${committed.length}; --retrain trains them):`, ...committed.map((id) => `  ${id}`)] : []),
    `attacks per evaluated model:`,
    `  white-box: ${e.whiteBox.map((a) => describeAttack(a, e.epsilons)).join(', ') || '(none)'}`,
    `  transfer from ${evals[0]?.cell.kind === 'evaluate' ? evals[0].cell.source.id : '(none)'}${e.transfer.otherFamily ? ` and from a model of the other operator family (${e.transfer.otherFamily.bounded} or ${e.transfer.otherFamily.unbounded})` : ''}: ${e.transfer.attacks.map((a) => describeAttack(a, e.epsilons)).join(', ') || '(none)'}`,
    ...(e.wide ? [`  wide pass on ${e.wide.n} points: ${e.wide.attacks.map((a) => describeAttack(a, e.epsilons)).join(', ')}, with the noise baseline`] : []),
    `  score-based: ${describeAttack(e.scoreBased, e.epsilons)}`,
    `per-image cost on ${o.backend} (median of 2 steps at batch ${batches.train} for training, ${batches.forward} for the rest, process CPU time; cached in ${o.calibrator.file}):`,
    ...[...measured].map(
      ([op, m]) =>
        `  ${op}${learnable(op) ? ' (learnable radius)' : ''}: train ${(m.cost.train * 1e3).toFixed(1)} ms, ` +
        `forward ${(m.cost.forward * 1e3).toFixed(1)} ms, input gradient ${(m.cost.inputGradient * 1e3).toFixed(1)} ms${m.cached ? ' (cached)' : ''}`,
    ),
    `estimate: ${hours(cpuSeconds)} CPU-hours (training ${hours(estimate.seconds.train)}, attacks ${hours(estimate.seconds.evaluate)}), ` +
      `about ${hours(cpuSeconds / Math.min(o.jobs, Math.max(1, estimate.cells.length)))} h with --jobs ${o.jobs} if each worker has a core` +
      ` (an upper bound for the attacks: early stopping makes them cheaper)`,
  ];
  return { text: lines.join('\n') + '\n', estimate, cpuSeconds };
}
