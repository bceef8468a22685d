// Training, saving, loading and verifying zoo models on tiny generated data: determinism,
// exact resume after a crash mid-epoch, adversarial training, weight projection, tamper
// detection and tensor hygiene.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import type { Tensor1D, Tensor4D } from '../src/tf.js';
import {
  CHECKPOINT_FILE,
  evaluateClean,
  listZoo,
  loadZooModel,
  trainModel,
  verifyZooModel,
  type TrainOptions,
  type TrainResult,
} from '../models/zoo/index.js';
import { trainingBatch } from '../models/zoo/step.js';
import { buildModel } from '../models/architectures.js';
import { DecoupledConv2D } from '../src/layers/decoupled-conv2d.js';
import { filterNorm } from '../src/ops/decoupled.js';
import { loadDataset } from '../src/data/index.js';
import { writeCifarDataset, writeIdxDataset } from './helpers/datasets.js';

const root = mkdtempSync(join(tmpdir(), 'dcnet-zoo-'));
const data = join(root, 'data');
const zoo = join(root, 'zoo');
afterAll(() => rmSync(root, { recursive: true, force: true }));

// 8x8 images whose class is a bright row: a tiny small-cnn learns it within a few epochs.
beforeAll(() => {
  mkdirSync(data);
  writeIdxDataset(data, { train: 96, test: 40, side: 8, gzip: true, seed: 7, learnable: true });
});

const BASE = 'mnist/small-cnn/standard/standard';
const tiny = (id: string, extra: Partial<TrainOptions> = {}): TrainOptions => ({
  id,
  data,
  zooDir: zoo,
  epochs: 3,
  batchSize: 32,
  ...extra,
});

const weightsSha = (r: TrainResult): string => r.manifest.files['weights.bin']!;

describe('training', () => {
  let first: TrainResult;
  const tensorsPerBatch: number[] = [];

  it('trains, saves model.json, weights.bin and a complete manifest; tensors do not leak', async () => {
    const before = tf.memory().numTensors;
    first = await trainModel(
      tiny(`${BASE}/s0`, {
        onProgress: (p) => {
          if (p.phase === 'train') tensorsPerBatch.push(tf.memory().numTensors);
        },
      }),
    );
    expect(tf.memory().numTensors).toBe(before);
    // Same count after every batch: nothing accumulates across batches.
    expect(new Set(tensorsPerBatch.slice(1)).size).toBe(1);

    const m = first.manifest;
    for (const f of ['model.json', 'weights.bin', 'manifest.json']) expect(existsSync(join(first.dir, f))).toBe(true);
    expect(existsSync(join(first.dir, CHECKPOINT_FILE))).toBe(false);
    expect(first.dir).toBe(join(zoo, 'mnist', 'small-cnn', 'standard', 'standard', 's0'));
    expect(m).toMatchObject({ id: `${BASE}/s0`, seed: 0, epochs: 3, formatVersion: 1, resumes: 0 });
    expect(m.dataset).toMatchObject({ name: 'mnist', source: data, shape: [8, 8, 1], numClasses: 10 });
    expect(m.dataset.train).toEqual({ count: 96, sha256: loadDataset('mnist', { data, split: 'train' }).sha256 });
    expect(m.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(m.history[2]!.loss).toBeLessThan(m.history[0]!.loss);
    expect(m.metrics.testCount).toBe(40);
    expect(m.metrics.testAccuracy).toBeGreaterThan(0.3); // chance is 0.1
    expect(m.toolkit.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(m.backend.name).toBe(process.env.DCNET_TEST_BACKEND ?? 'wasm');
    expect(m.recipe).toMatchObject({ learningRate: 1e-3, batchSize: 32, epochs: 3 });
    expect(m.wallTimeSeconds).toBeGreaterThan(0);
    expect(m.files['model.json']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('loads back verified, with the accuracy the manifest records', async () => {
    const { model, manifest } = await loadZooModel(`${BASE}/s0`, { zooDir: zoo });
    const test = loadDataset('mnist', { data, split: 'test' });
    expect(evaluateClean(model, test).accuracy).toBe(manifest.metrics.testAccuracy);
    model.dispose();
    const byDir = await loadZooModel(first.dir);
    expect(byDir.manifest.id).toBe(`${BASE}/s0`);
    byDir.model.dispose();
  });

  it('same seed, same backend: the same weights; another seed: other weights', async () => {
    const again = await trainModel(tiny(`${BASE}/s0`, { out: join(root, 'again') }));
    expect(weightsSha(again)).toBe(weightsSha(first));
    const other = await trainModel(tiny(`${BASE}/s1`));
    expect(weightsSha(other)).not.toBe(weightsSha(first));
  });

  it('a crash mid-epoch, then --resume: the same final weights as an uninterrupted run', async () => {
    const out = join(root, 'crashed');
    const crash = new Error('simulated crash');
    await expect(
      trainModel(
        tiny(`${BASE}/s0`, {
          out,
          onProgress: (p) => {
            if (p.epoch === 2 && p.batch === 2) throw crash;
          },
        }),
      ),
    ).rejects.toBe(crash);
    expect(existsSync(join(out, CHECKPOINT_FILE))).toBe(true);
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
    // Without --resume the unfinished run is not silently overwritten.
    await expect(trainModel(tiny(`${BASE}/s0`, { out }))).rejects.toThrow(/unfinished training.*--resume/);
    // Different settings cannot resume it.
    await expect(trainModel(tiny(`${BASE}/s0`, { out, resume: true, learningRate: 0.01 }))).rejects.toThrow(/settings differ.*learningRate/);
    const resumed = await trainModel(tiny(`${BASE}/s0`, { out, resume: true }));
    expect(resumed.resumedFromEpoch).toBe(1);
    expect(resumed.manifest.resumes).toBe(1);
    expect(resumed.manifest.history).toHaveLength(3);
    expect(weightsSha(resumed)).toBe(weightsSha(first));
    expect(resumed.manifest.metrics.testAccuracy).toBe(first.manifest.metrics.testAccuracy);
  });

  it('refuses to overwrite a trained model unless asked', async () => {
    await expect(trainModel(tiny(`${BASE}/s0`))).rejects.toThrow(/already exists.*--force/);
    const redone = await trainModel(tiny(`${BASE}/s0`, { overwrite: true, out: join(root, 'again') }));
    expect(weightsSha(redone)).toBe(weightsSha(first));
  });

  it('stops at an abort signal, leaving the last checkpoint', async () => {
    const controller = new AbortController();
    const out = join(root, 'aborted');
    await expect(
      trainModel(tiny(`${BASE}/s0`, { out, signal: controller.signal, onEpoch: () => controller.abort() })),
    ).rejects.toThrow(/aborted in epoch 2/);
    expect(existsSync(join(out, CHECKPOINT_FILE))).toBe(true);
    const listing = listZoo(zoo);
    expect(listing.map((e) => e.id)).toContain(`${BASE}/s0`);
  });
});

describe('the embedded Fashion-MNIST subset', () => {
  it('trains from the built-in files (28x28, default location) and records its checksum', async () => {
    const r = await trainModel({
      id: 'fashion-mnist-embedded/small-cnn/standard/standard/s0',
      zooDir: zoo,
      epochs: 1,
      batchSize: 32,
      trainLimit: 128,
      testLimit: 64,
    });
    const m = r.manifest;
    expect(m.dataset.shape).toEqual([28, 28, 1]);
    expect(m.dataset.train.count).toBe(128);
    expect(m.dataset.test.count).toBe(64);
    expect(m.recipe.trainLimit).toBe(128);
    expect(m.dataset.train.sha256).toBe(loadDataset('fashion-mnist-embedded', { split: 'train', limit: 128 }).sha256);
    expect(m.metrics.testAccuracy).toBeGreaterThan(0.2); // one short epoch, chance is 0.1
  });
});

describe('CIFAR-10 with crop-flip augmentation', () => {
  it('augments by default, records it, and still resumes exactly', async () => {
    const cifar = join(root, 'cifar');
    mkdirSync(cifar);
    writeCifarDataset(cifar, { perBatch: 8, test: 8, seed: 2 });
    const opts = (out: string, extra: Partial<TrainOptions> = {}): TrainOptions => ({
      id: 'cifar10/small-cnn/standard/standard/s0', data: cifar, out, epochs: 2, batchSize: 16, ...extra,
    });
    const full = await trainModel(opts(join(root, 'cifar-full')));
    expect(full.manifest.recipe.augmentation).toBe('crop-flip');
    expect(full.manifest.dataset.shape).toEqual([32, 32, 3]);
    const crash = new Error('crash');
    await expect(trainModel(opts(join(root, 'cifar-crash'), { onProgress: (p) => { if (p.epoch === 2) throw crash; } }))).rejects.toBe(crash);
    const resumed = await trainModel(opts(join(root, 'cifar-crash'), { resume: true }));
    expect(weightsSha(resumed)).toBe(weightsSha(full));
    const plain = await trainModel(opts(join(root, 'cifar-plain'), { augmentation: 'none' }));
    expect(weightsSha(plain)).not.toBe(weightsSha(full));
  });
});

describe('decoupled and adversarial training', () => {
  it('tanh-cosine with weight projection every step: unit-norm filters after training', async () => {
    const r = await trainModel(tiny('mnist/small-cnn/tanh-cosine/standard/s0', { epochs: 1, projectionPeriod: 1 }));
    expect(r.manifest.recipe.projectionPeriod).toBe(1);
    expect(r.manifest.operator).toEqual({
      id: 'tanh-cosine', magnitude: 'tanh', angular: 'cosine', weighting: 'none', radius: 1, alpha: 1, beta: 0.5, k: 0.3, learnableRadius: false,
    });
    const { model } = await loadZooModel(r.dir);
    const decoupled = model.layers.filter((l) => l instanceof DecoupledConv2D) as DecoupledConv2D[];
    expect(decoupled).toHaveLength(2);
    for (const layer of decoupled) {
      const norms = filterNorm(layer.kernel.read() as Tensor4D).dataSync();
      // Projection divides by sqrt(sum w^2 + 1e-4), so the measured norm is 1 up to ~1e-4.
      for (const n of norms) expect(n).toBeCloseTo(1, 3);
    }
    model.dispose();
  });

  it('fgsm-at replaces half of each batch by FGSM examples inside the eps-ball', () => {
    const model = buildModel('small-cnn', { inputShape: [8, 8, 1], numClasses: 10, operator: 'standard', seed: 0 });
    const test = loadDataset('mnist', { data, split: 'test', limit: 10 });
    const x = tf.tensor4d(test.images, [10, 8, 8, 1]);
    const y = tf.tensor1d(test.labels, 'int32') as Tensor1D;
    const before = tf.memory().numTensors;
    const { x: mixed, weights } = trainingBatch(model, x, y, { attack: 'fgsm', epsilon: 0.1, fraction: 0.5, weight: 0.3 }, 1);
    const perExample = tf.tidy(() => tf.max(tf.abs(tf.sub(mixed, x)), [1, 2, 3]).arraySync() as number[]);
    for (let i = 0; i < 5; i++) {
      expect(perExample[i]).toBeGreaterThan(0.05);
      expect(perExample[i]).toBeLessThanOrEqual(0.1 + 1e-6);
    }
    for (let i = 5; i < 10; i++) expect(perExample[i]).toBe(0);
    expect(Array.from(weights!.dataSync())).toEqual([0.3, 0.3, 0.3, 0.3, 0.3, 1, 1, 1, 1, 1].map(Math.fround));
    expect(Math.min(...mixed.dataSync())).toBeGreaterThanOrEqual(0);
    expect(Math.max(...mixed.dataSync())).toBeLessThanOrEqual(1);
    tf.dispose([mixed, weights!]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('fgsm-at and pgd-at train and record their attack settings', async () => {
    const f = await trainModel(tiny('mnist/small-cnn/standard/fgsm-at/s0', { epochs: 1, epsilon: 0.2 }));
    expect(f.manifest.recipe.adversarial).toEqual({ attack: 'fgsm', epsilon: 0.2, fraction: 0.5, weight: 1 });
    const p = await trainModel(tiny('mnist/small-cnn/standard/pgd-at/s0', { epochs: 1, attackSteps: 2 }));
    expect(p.manifest.recipe.adversarial).toEqual({ attack: 'pgd', epsilon: 0.1, fraction: 1, weight: 1, steps: 2, stepSize: 0.025 });
    // Adversarial examples change the training: other weights than clean training for one epoch.
    const clean = await trainModel(tiny(`${BASE}/s0`, { epochs: 1, out: join(root, 'clean1') }));
    expect(f.manifest.files['weights.bin']).not.toBe(clean.manifest.files['weights.bin']);
    expect(p.manifest.files['weights.bin']).not.toBe(clean.manifest.files['weights.bin']);
  });
});

describe('loading refuses damaged models', () => {
  let source: string;
  beforeAll(async () => {
    source = join(root, 'pristine');
    if (!existsSync(join(source, 'manifest.json'))) await trainModel(tiny(`${BASE}/s0`, { epochs: 1, out: source }));
  });
  let k = 0;
  const copy = (): string => {
    const dir = join(root, `tamper${k++}`);
    cpSync(source, dir, { recursive: true });
    return dir;
  };

  it('a changed weight file: checksum mismatch', async () => {
    const dir = copy();
    const w = readFileSync(join(dir, 'weights.bin'));
    w[10] = w[10]! ^ 0xff;
    writeFileSync(join(dir, 'weights.bin'), w);
    await expect(loadZooModel(dir)).rejects.toThrow(/checksum mismatch for .*weights\.bin/);
  });

  it('a missing file', async () => {
    const dir = copy();
    rmSync(join(dir, 'model.json'));
    await expect(loadZooModel(dir)).rejects.toThrow(/model\.json is missing/);
  });

  it('a manifest from an unknown version, or not a manifest at all', async () => {
    const dir = copy();
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...m, formatVersion: 99 }));
    await expect(loadZooModel(dir)).rejects.toThrow(/manifest version 99.*reads version 1/);
    writeFileSync(join(dir, 'manifest.json'), '{"format": "something-else"}');
    await expect(loadZooModel(dir)).rejects.toThrow(/not a dcnet-robustness zoo manifest/);
    writeFileSync(join(dir, 'manifest.json'), '{broken');
    await expect(loadZooModel(dir)).rejects.toThrow(/not valid JSON/);
    rmSync(join(dir, 'manifest.json'));
    await expect(loadZooModel(dir)).rejects.toThrow(/manifest\.json is missing/);
  });

  it('unknown ids and folders; every refusal is a ZooError', async () => {
    await expect(loadZooModel('mnist/small-cnn/log-cosine/standard/s0', { zooDir: zoo })).rejects.toThrow(
      /not in the zoo .*dcnet train --model mnist\/small-cnn\/log-cosine\/standard\/s0/,
    );
    await expect(loadZooModel('mnist/small-cnn/log-cos/standard/s0', { zooDir: zoo })).rejects.toThrow(
      /neither a model folder nor a model id.*Invalid angular 'cos'/,
    );
    await expect(loadZooModel(join(root, 'nowhere'))).rejects.toMatchObject({ name: 'ZooError' });
    expect(() => verifyZooModel(`${BASE}/s9`, { zooDir: zoo })).toThrow(/not in the zoo/);
  });

  it('zoo list shows complete, unfinished and broken models', () => {
    const listing = listZoo(zoo, { verify: true });
    const byId = Object.fromEntries(listing.map((e) => [e.id, e]));
    expect(byId[`${BASE}/s0`]!.status).toBe('complete');
    expect(byId[`${BASE}/s0`]!.manifest!.metrics.testAccuracy).toBeGreaterThan(0);
    const broken = join(zoo, 'mnist', 'small-cnn', 'standard', 'standard', 's1');
    const w = readFileSync(join(broken, 'weights.bin'));
    w[0] = w[0]! ^ 1;
    writeFileSync(join(broken, 'weights.bin'), w);
    const again = Object.fromEntries(listZoo(zoo, { verify: true }).map((e) => [e.id, e]));
    expect(again[`${BASE}/s1`]!.status).toBe('invalid');
    expect(again[`${BASE}/s1`]!.error).toMatch(/checksum mismatch/);
    expect(listZoo(join(root, 'empty-zoo'))).toEqual([]);
  });
});
