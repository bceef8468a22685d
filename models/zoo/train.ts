// trainModel: trains one zoo model from its id, checkpointing after every epoch so an
// interrupted run resumes to exactly the weights an uninterrupted run gives, then evaluates
// it on the clean test set and saves it with its manifest. Prints nothing: progress goes to
// the onProgress callback.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import { loadDataset, type Dataset } from '../../src/data/index.js';
import { saveModel } from '../../src/io/fs-handler.js';
import { projectWeights } from '../../src/layers/weight-projection.js';
import { SeededRandom } from '../../src/random.js';
import { VERSION } from '../../src/version.js';
import { buildModel } from '../architectures.js';
import { Adam } from './adam.js';
import { batchCount, gatherBatch } from './batches.js';
import {
  hasCheckpoint,
  loadCheckpoint,
  removeCheckpoint,
  saveCheckpoint,
  type CheckpointState,
  type EpochRecord,
} from './checkpoint.js';
import { ZooError } from './errors.js';
import { evaluateClean } from './evaluate.js';
import {
  MANIFEST_FORMAT,
  MANIFEST_JSON,
  MANIFEST_VERSION,
  writeManifest,
  type OperatorRecord,
  type ZooManifest,
} from './manifest.js';
import { parseOperatorId, resolveOptions } from '../../src/ops/options.js';
import { recipeMismatch, resolveRecipe, type RecipeOverrides, type TrainingRecipe } from './recipe.js';
import { formatZooId, parseZooId, type ZooId } from './registry.js';
import { trainStep, type StepResult } from './step.js';
import { CROP_PAD, cropFlipBatch } from './augment.js';
import { modelDir, removeModelFiles, resolveZooDir } from './store.js';

export interface TrainProgress {
  phase: 'train' | 'evaluate';
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  step: number;
  /** Running mean loss and accuracy of the current epoch. */
  loss: number;
  accuracy: number;
  imagesPerSecond: number;
  /** Seconds left for the training phase (estimate). */
  etaSeconds: number;
}

export interface TrainOptions extends RecipeOverrides {
  /** Zoo id, e.g. fashion-mnist/small-cnn/tanh-cosine/fgsm-at/s0. */
  id: string;
  /** Zoo folder (default: $DCNET_ZOO or ./zoo). */
  zooDir?: string;
  /** Model folder (default: <zoo>/<id>). */
  out?: string;
  /** Dataset folder (default: the dataset's default place). */
  data?: string;
  /** Already loaded splits (e.g. shared by a benchmark runner); must be the id's dataset. */
  datasets?: { train: Dataset; test: Dataset };
  /** Continue from the last checkpoint in the model folder, if there is one. */
  resume?: boolean;
  /** Delete an existing model or checkpoint in the folder and train from scratch. */
  overwrite?: boolean;
  onProgress?(p: TrainProgress): void;
  /** Called after each epoch's checkpoint is written. */
  onEpoch?(record: EpochRecord): void;
  signal?: AbortSignal;
}

export interface TrainResult {
  id: string;
  dir: string;
  manifest: ZooManifest;
  /** The epoch the run resumed after (0: from scratch). */
  resumedFromEpoch: number;
}

/** Training stopped by its abort signal (Ctrl-C); the last finished epoch stays checkpointed. */
export class TrainingAborted extends Error {
  override name = 'TrainingAborted';
}

/** Seeds derived from the model seed, one stream per purpose. */
const shuffleSeed = (seed: number): number => (Math.imul(seed + 1, 0x9e3779b1) ^ 0x5eed) >>> 0;
const attackSeed = (seed: number, step: number): number =>
  (Math.imul(seed + 1, 0x85ebca6b) ^ Math.imul(step + 1, 0xc2b2ae35)) & 0x7fffffff;

function prepareFolder(dir: string, options: TrainOptions): void {
  if (options.overwrite) {
    removeModelFiles(dir);
    return;
  }
  if (existsSync(join(dir, MANIFEST_JSON))) {
    throw new ZooError(`A trained model already exists in ${dir}. Use --force (overwrite) to train it again.`);
  }
  if (hasCheckpoint(dir) && !options.resume) {
    throw new ZooError(
      `${dir} holds an unfinished training. Continue it with --resume, or start over with --force.`,
    );
  }
}

function loadSplits(id: ZooId, recipe: TrainingRecipe, options: TrainOptions): { train: Dataset; test: Dataset } {
  if (options.datasets) {
    for (const d of [options.datasets.train, options.datasets.test]) {
      if (d.name !== id.dataset) throw new ZooError(`Dataset ${d.name} given for model ${formatZooId(id)}.`);
    }
    return options.datasets;
  }
  const load = (split: 'train' | 'test', limit?: number): Dataset =>
    loadDataset(id.dataset, { split, ...(options.data ? { data: options.data } : {}), ...(limit ? { limit } : {}) });
  return { train: load('train', recipe.trainLimit), test: load('test', recipe.testLimit) };
}

export async function trainModel(options: TrainOptions): Promise<TrainResult> {
  const zid = parseZooId(options.id);
  const id = formatZooId(zid);
  const recipe = resolveRecipe(zid, options);
  const dir = options.out ?? modelDir(id, resolveZooDir(options.zooDir));
  prepareFolder(dir, options);
  const backend = await initBackend();
  const { train, test } = loadSplits(zid, recipe, options);

  const model = buildModel(zid.architecture, {
    inputShape: train.shape,
    numClasses: train.numClasses,
    operator: zid.operator,
    operatorOptions: recipe.operatorOptions,
    seed: zid.seed,
  });
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const adam = new Adam(variables, {
    learningRate: recipe.learningRate,
    beta1: recipe.adamBeta1,
    beta2: recipe.adamBeta2,
    epsilon: recipe.adamEpsilon,
  });
  const rng = new SeededRandom(shuffleSeed(zid.seed));
  const decoupled = zid.operator !== 'standard' && recipe.projectionPeriod > 0;
  const datasetSha256 = { train: train.sha256, test: test.sha256 };

  let state: CheckpointState = {
    id,
    recipe,
    datasetSha256,
    epoch: 0,
    step: 0,
    rngState: rng.getState(),
    elapsedSeconds: 0,
    history: [],
    resumes: 0,
  };
  let resumedFromEpoch = 0;
  try {
    if (options.resume && hasCheckpoint(dir)) {
      state = restore(dir, state, model, adam, rng);
      resumedFromEpoch = state.epoch;
    }
    const run: EpochRun = { id, zid, recipe, model, variables, adam, rng, train, decoupled, options, sessionImages: 0, sessionSeconds: 0 };
    for (let epoch = state.epoch; epoch < recipe.epochs; epoch++) {
      const record = await runEpoch(run, state, epoch);
      state = {
        ...state,
        epoch: epoch + 1,
        rngState: rng.getState(),
        elapsedSeconds: state.elapsedSeconds + record.seconds,
        history: [...state.history, record],
      };
      const adamState = adam.getState();
      await saveCheckpoint(dir, {
        ...state,
        modelWeights: model.weights.map((w) => w.read()),
        adamStep: adamState.step,
        adamMoments: adamState.moments,
      });
      options.onEpoch?.(record);
    }

    const metrics = evaluateClean(model, test, 256, (done, total) =>
      options.onProgress?.({
        phase: 'evaluate',
        epoch: recipe.epochs,
        epochs: recipe.epochs,
        batch: done,
        batches: total,
        step: state.step,
        loss: NaN,
        accuracy: NaN,
        imagesPerSecond: NaN,
        etaSeconds: 0,
      }),
    );
    await saveModel(model, dir);
    const last = state.history[state.history.length - 1];
    const manifest = writeManifest(dir, {
      format: MANIFEST_FORMAT,
      formatVersion: MANIFEST_VERSION,
      id,
      model: zid,
      dataset: {
        name: train.name,
        source: train.source,
        shape: train.shape,
        numClasses: train.numClasses,
        train: { count: train.count, sha256: train.sha256 },
        test: { count: test.count, sha256: test.sha256 },
      },
      operator: operatorRecord(zid.operator, recipe),
      recipe,
      seed: zid.seed,
      epochs: recipe.epochs,
      toolkit: { name: 'dcnet-robustness', version: VERSION },
      tfjs: tf.version.tfjs,
      backend: { name: backend.name, description: backend.description },
      node: process.version,
      wallTimeSeconds: state.elapsedSeconds,
      trainImagesPerSecond: state.elapsedSeconds > 0 ? (train.count * state.epoch) / state.elapsedSeconds : 0,
      resumes: state.resumes,
      metrics: {
        testAccuracy: metrics.accuracy,
        testLoss: metrics.loss,
        testCount: metrics.count,
        trainLoss: last?.loss ?? NaN,
        trainAccuracy: last?.accuracy ?? NaN,
      },
      history: state.history,
      createdAt: new Date().toISOString(),
    });
    removeCheckpoint(dir);
    return { id, dir, manifest, resumedFromEpoch };
  } finally {
    adam.dispose();
    model.dispose();
  }
}

/** What one epoch needs; the session counters feed images/s and the ETA. */
interface EpochRun {
  id: string;
  zid: ZooId;
  recipe: TrainingRecipe;
  model: tf.LayersModel;
  variables: tf.Variable[];
  adam: Adam;
  rng: SeededRandom;
  train: Dataset;
  decoupled: boolean;
  options: TrainOptions;
  sessionImages: number;
  sessionSeconds: number;
}

/** Lets timers and signal handlers (Ctrl-C, an AbortSignal) run between batches. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** One pass over the shuffled training set; advances state.step. */
async function runEpoch(run: EpochRun, state: CheckpointState, epoch: number): Promise<EpochRecord> {
  const { recipe, train, options } = run;
  const batches = batchCount(train.count, recipe.batchSize);
  const order = run.rng.permutation(train.count);
  const augment =
    recipe.augmentation === 'crop-flip'
      ? (pixels: Float32Array, count: number) => cropFlipBatch(pixels, count, train.shape, CROP_PAD, run.rng)
      : undefined;
  const epochStart = performance.now();
  let lossSum = 0;
  let correct = 0;
  let seen = 0;
  for (let b = 0; b < batches; b++) {
    await yieldToEventLoop();
    if (options.signal?.aborted) throw new TrainingAborted(`Training of ${run.id} aborted in epoch ${epoch + 1}.`);
    const { x, y, size } = gatherBatch(train, order, b, recipe.batchSize, augment);
    let result: StepResult;
    try {
      result = trainStep(run.model, run.variables, run.adam, x, y, {
        labelSmoothing: recipe.labelSmoothing,
        ...(recipe.adversarial ? { adversarial: recipe.adversarial } : {}),
        attackSeed: attackSeed(run.zid.seed, state.step),
      });
    } finally {
      tf.dispose([x, y]);
    }
    state.step += 1;
    if (!Number.isFinite(result.loss)) {
      throw new ZooError(`Training of ${run.id} diverged (loss ${result.loss} at step ${state.step}). Lower --lr or check the data.`);
    }
    if (run.decoupled && state.step % recipe.projectionPeriod === 0) projectWeights(run.model);
    lossSum += result.loss * size;
    correct += result.correct;
    seen += size;
    run.sessionImages += size;
    const rate = run.sessionImages / Math.max(run.sessionSeconds + (performance.now() - epochStart) / 1000, 1e-9);
    const remaining = (recipe.epochs - epoch - 1) * train.count + (train.count - seen);
    options.onProgress?.({
      phase: 'train',
      epoch: epoch + 1,
      epochs: recipe.epochs,
      batch: b + 1,
      batches,
      step: state.step,
      loss: lossSum / seen,
      accuracy: correct / seen,
      imagesPerSecond: rate,
      etaSeconds: remaining / rate,
    });
  }
  const seconds = (performance.now() - epochStart) / 1000;
  run.sessionSeconds += seconds;
  return { epoch: epoch + 1, loss: lossSum / seen, accuracy: correct / seen, seconds, imagesPerSecond: seen / seconds };
}

/** The operator id with its resolved options, for the manifest. */
function operatorRecord(operator: string, recipe: TrainingRecipe): OperatorRecord {
  const { learnableRadius, ...options } = recipe.operatorOptions;
  const { strides: _s, padding: _p, ...resolved } = resolveOptions({ ...parseOperatorId(operator), ...options });
  return { id: operator, ...resolved, learnableRadius: learnableRadius === true };
}

/** Loads the checkpoint into the model, the optimizer and the generator, after checking it fits. */
function restore(dir: string, fresh: CheckpointState, model: tf.LayersModel, adam: Adam, rng: SeededRandom): CheckpointState {
  const c = loadCheckpoint(dir);
  try {
    if (c.id !== fresh.id) throw new ZooError(`The checkpoint in ${dir} belongs to ${c.id}, not ${fresh.id}.`);
    const mismatch = recipeMismatch(c.recipe, fresh.recipe);
    if (mismatch) {
      throw new ZooError(`Cannot resume ${fresh.id}: the settings differ from the checkpoint's (${mismatch}). Use the same options, or --force to start over.`);
    }
    if (c.datasetSha256.train !== fresh.datasetSha256.train || c.datasetSha256.test !== fresh.datasetSha256.test) {
      throw new ZooError(`Cannot resume ${fresh.id}: the dataset differs from the one the checkpoint was trained on (sha256 mismatch).`);
    }
    if (c.epoch > fresh.recipe.epochs) {
      throw new ZooError(`Cannot resume ${fresh.id}: the checkpoint is at epoch ${c.epoch}, beyond --epochs ${fresh.recipe.epochs}.`);
    }
    const weights = model.weights;
    if (c.modelWeights.length !== weights.length || c.modelWeights.some((t, i) => !tf.util.arraysEqual(t.shape, weights[i]!.shape as number[]))) {
      throw new ZooError(`The checkpoint in ${dir} does not fit the model ${fresh.id} (different weights).`);
    }
    model.setWeights(c.modelWeights);
    adam.setState({ step: c.adamStep, moments: c.adamMoments });
    rng.setState(c.rngState);
    const { modelWeights: _w, adamMoments: _m, adamStep: _s, ...state } = c;
    return { ...state, recipe: fresh.recipe, resumes: c.resumes + 1 };
  } finally {
    tf.dispose([...c.modelWeights, ...c.adamMoments]);
  }
}
