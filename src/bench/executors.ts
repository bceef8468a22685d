// What a worker does for each cell: train a zoo model (or reuse it), or evaluate one model
// under every attack of the profile and turn the engine's result into the model's result.
import { loadDataset, type Dataset } from '../data/index.js';
import { clearTransferCache, evaluate, type AttackRequest, type TransferCache } from '../eval/index.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LockBusy } from '../io/lock.js';
import { profileRecipeMismatch, trainOverrides } from './recipe-match.js';
import {
  loadZooModel,
  MANIFEST_JSON,
  modelDir,
  resolveZooDir,
  trainModel,
  verifyZooModel,
  ZooError,
  type ZooManifest,
} from '../../models/zoo/index.js';
import { exampleSet } from '../../reports/examples.js';
import type { EvaluateCellResult } from '../../reports/index.js';
import { toModelResult, type ModelResult } from '../../reports/model-result.js';
import type { tf } from '../tf.js';
import { measureSaturation } from '../eval/saturation.js';
import type { Cell, EvaluateCell, TrainCell } from './cells.js';
import type { AttackSpec, BenchProfile } from './profile.js';
import type { WorkerSetup } from './runner.js';

export type ProgressFn = (text: string, fraction?: number) => void;

export interface TrainCellResult {
  id: string;
  reused: boolean;
  epochs: number;
  testAccuracy: number;
  testCount: number;
  wallSeconds: number;
  imagesPerSecond: number;
}

/**
 * Every target is attacked with the same transfer examples (one source, the same points and
 * seed), so a worker computes them once and keeps them for its next evaluation cells.
 */
const transferCaches = new Map<string, TransferCache>();

/** Each worker loads a dataset split once and shares it between its cells. */
const datasetCache = new Map<string, Dataset>();
function dataset(profile: BenchProfile, split: 'train' | 'test', limit?: number): Dataset {
  const key = `${profile.dataset}|${profile.data ?? ''}|${split}|${limit ?? ''}`;
  let d = datasetCache.get(key);
  if (!d) {
    d = loadDataset(profile.dataset, { split, ...(profile.data ? { data: profile.data } : {}), ...(limit ? { limit } : {}) });
    datasetCache.set(key, d);
  }
  return d;
}

/** The zoo's complete model if it was trained with this recipe; undefined if there is none. */
function reusable(id: string, setup: WorkerSetup): ZooManifest | undefined {
  if (!existsSync(join(modelDir(id, resolveZooDir(setup.zooDir)), MANIFEST_JSON))) return undefined;
  // A model that is there must be intact (checksums) and trained as the profile says.
  const { manifest } = verifyZooModel(id, { zooDir: setup.zooDir });
  const mismatch = profileRecipeMismatch(manifest, setup.profile, id);
  if (mismatch) {
    throw new ZooError(
      `The zoo already holds ${id}, trained with other settings (${mismatch}). ` +
        `Use another --zoo folder, or delete that model to retrain it with the profile's settings.`,
    );
  }
  return manifest;
}

function trainSummary(id: string, manifest: ZooManifest, reused: boolean): TrainCellResult {
  return {
    id,
    reused,
    epochs: manifest.epochs,
    testAccuracy: manifest.metrics.testAccuracy,
    testCount: manifest.metrics.testCount,
    wallSeconds: manifest.wallTimeSeconds,
    imagesPerSecond: manifest.trainImagesPerSecond,
  };
}

/** How often a train cell checks whether another process finished training its model. */
const LOCK_POLL_MS = 2000;

/** The zoo a model is read from: its profile's committed zoo when the run uses it, else the run's. */
function zooOf(id: string, setup: WorkerSetup): string {
  return setup.committed?.[id] ?? setup.zooDir;
}

async function runTrain(cell: TrainCell, setup: WorkerSetup, progress: ProgressFn): Promise<TrainCellResult> {
  const { id } = cell.model;
  const committed = setup.committed?.[id];
  if (committed) return trainSummary(id, verifyZooModel(id, { zooDir: committed }).manifest, true);
  for (;;) {
    const existing = reusable(id, setup);
    if (existing) return trainSummary(id, existing, true);
    try {
      return await trainCell(cell, setup, progress);
    } catch (err) {
      if (!(err instanceof LockBusy)) throw err;
      // Another process (a shard training the shared transfer source) holds the model folder:
      // wait for it and reuse its model, or take over if it dies.
      progress(`waiting: another process is training ${id}`, 0);
      await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
  }
}

async function trainCell(cell: TrainCell, setup: WorkerSetup, progress: ProgressFn): Promise<TrainCellResult> {
  const { id } = cell.model;
  const overrides = trainOverrides(setup.profile, cell.model.id);
  const train = dataset(setup.profile, 'train', overrides.trainLimit);
  const test = dataset(setup.profile, 'test');
  const result = await trainModel({
    id,
    zooDir: setup.zooDir,
    ...overrides,
    datasets: { train, test },
    // A training killed with the run continues from its last epoch checkpoint.
    resume: true,
    onProgress: (p) => {
      const done = p.phase === 'train' ? ((p.epoch - 1) * p.batches + p.batch) / (p.epochs * p.batches) : 1;
      progress(
        p.phase === 'train'
          ? `epoch ${p.epoch}/${p.epochs} ${Math.round((100 * p.batch) / p.batches)}% loss ${p.loss.toFixed(3)} acc ${(100 * p.accuracy).toFixed(1)}% ${Math.round(p.imagesPerSecond)} img/s`
          : 'clean test accuracy',
        done * 0.98,
      );
    },
  });
  return trainSummary(id, result.manifest, false);
}

function attackRequests(profile: BenchProfile): AttackRequest[] {
  const e = profile.evaluation;
  const request = (a: AttackSpec, transfer = false): AttackRequest => ({
    name: a.name,
    epsilons: a.epsilons ?? e.epsilons,
    ...(transfer ? { transfer } : {}),
    ...(a.params ? { params: a.params } : {}),
  });
  // The other family's source (when there is one) runs the same transfer attacks as source 1.
  const other = e.transfer.otherFamily ? e.transfer.attacks.map((a) => ({ ...request(a, true), sourceIndex: 1 })) : [];
  return [...e.whiteBox.map((a) => request(a)), ...e.transfer.attacks.map((a) => request(a, true)), ...other, request(e.scoreBased)];
}

/** What the runner tells every worker: a transfer source whose evaluation cells are all done. */
export interface SourceDone {
  sourceDone: string;
}

/** Frees the transfer examples kept for a source once no cell needs them. */
export function handleBroadcast(payload: unknown): void {
  const { sourceDone } = payload as SourceDone;
  const cache = transferCaches.get(sourceDone);
  if (!cache) return;
  clearTransferCache(cache);
  transferCaches.delete(sourceDone);
}

export function transferCacheFor(sourceId: string): TransferCache {
  let cache = transferCaches.get(sourceId);
  if (!cache) {
    cache = new Map();
    transferCaches.set(sourceId, cache);
  }
  return cache;
}

async function runEvaluate(cell: EvaluateCell, setup: WorkerSetup, progress: ProgressFn): Promise<EvaluateCellResult> {
  const started = performance.now();
  const { profile } = setup;
  const e = profile.evaluation;
  const test = dataset(profile, 'test', e.n);
  const target = await loadZooModel(cell.model.id, { zooDir: zooOf(cell.model.id, setup) });
  const source = await loadZooModel(cell.source.id, { zooDir: zooOf(cell.source.id, setup) });
  const other = cell.otherSource ? await loadZooModel(cell.otherSource.id, { zooDir: zooOf(cell.otherSource.id, setup) }) : undefined;
  try {
    const requests = attackRequests(profile);
    const result = await evaluate({
      model: target.model,
      name: cell.model.id,
      images: test.images,
      labels: test.labels,
      shape: test.shape,
      attacks: requests,
      source: { model: source.model, name: cell.source.id },
      ...(other && cell.otherSource ? { extraSources: [{ model: other.model, name: cell.otherSource.id, transferCache: transferCacheFor(cell.otherSource.id) }] } : {}),
      n: e.n,
      batch: e.batch,
      seed: e.seed,
      keepPerPoint: true,
      ...(e.minimalEpsilon ? { minimalEpsilon: e.minimalEpsilon } : {}),
      transferCache: transferCacheFor(cell.source.id),
      // A batch's end has no attack: the points only (it printed 'undefined').
      onProgress: (p) =>
        progress(`${p.label === undefined ? '' : `${p.label}${p.epsilon !== undefined ? ` eps ${p.epsilon}` : ''} `}${p.pointsDone}/${p.pointsTotal}`),
    });
    const wallSeconds = (performance.now() - started) / 1000;
    const m = target.manifest;
    const train = {
      epochs: m.epochs,
      wallSeconds: m.wallTimeSeconds,
      imagesPerSecond: m.trainImagesPerSecond,
      testAccuracy: m.metrics.testAccuracy,
      ...(m.recipe.adversarial ? { eps: m.recipe.adversarial.epsilon } : {}),
      recipe: m.recipe,
    };
    // Examples under the profile's main iterative white-box attack at the table epsilon.
    const shown = e.whiteBox.find((a) => a.name !== 'fgsm') ?? e.whiteBox[0]!;
    const model = toModelResult(result, { model: cell.model.id, source: cell.source.id, ...(cell.otherSource ? { otherSource: cell.otherSource.id } : {}) }, train, wallSeconds);
    // The saturation table, under the same attack as the examples.
    const saturation = e.saturation ? measureSaturation(target.model, test, shown, e.tableEpsilon, e.seed, e.saturation.points, e.batch) : undefined;
    if (saturation) model.saturation = saturation;
    if (e.wide) model.wide = await widePass(target.model, cell, setup, progress);
    return {
      model,
      examples: exampleSet(target.model, test, shown, e.tableEpsilon, e.seed),
    };
  } finally {
    target.model.dispose();
    source.model.dispose();
    other?.model.dispose();
  }
}

/** The profile's wide pass: its attacks, with the noise baseline, on `wide.n` test points. */
async function widePass(model: tf.LayersModel, cell: EvaluateCell, setup: WorkerSetup, progress: ProgressFn): Promise<NonNullable<ModelResult['wide']>> {
  const e = setup.profile.evaluation;
  const wide = e.wide!;
  const test = dataset(setup.profile, 'test', wide.n);
  const result = await evaluate({
    model,
    name: cell.model.id,
    images: test.images,
    labels: test.labels,
    shape: test.shape,
    attacks: wide.attacks.map((a) => ({ name: a.name, epsilons: a.epsilons ?? e.epsilons, ...(a.params ? { params: a.params } : {}) })),
    n: wide.n,
    batch: e.batch,
    seed: e.seed,
    keepPerPoint: true,
    onProgress: (p) => progress(`wide pass ${p.label ?? ''} ${p.pointsDone}/${p.pointsTotal}`),
  });
  const r = toModelResult(result, { model: cell.model.id }, undefined, 0);
  return { n: r.evaluation.n, clean: r.evaluation.clean, cleanPerPoint: r.evaluation.cleanPerPoint, results: r.results };
}

export async function executeCell(cell: Cell, setup: WorkerSetup, progress: ProgressFn): Promise<TrainCellResult | EvaluateCellResult> {
  return cell.kind === 'train' ? runTrain(cell, setup, progress) : runEvaluate(cell, setup, progress);
}

