// The paper's networks, cnn9 and resnet32, on CIFAR-shaped images (3 channels) with the
// standard convolution, a bounded decoupled operator with learnable radius and an unbounded
// one with a fixed radius: forward, one training step that lowers the loss of a repeated
// batch, FGSM and BIM steps checked against their definitions, and a save/load round trip.
// Batches are tiny (these networks cost ~1 GFLOP per image on one CPU core).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import type { Tensor1D, Tensor2D, Tensor4D } from '../src/tf.js';
import { buildModel } from '../models/architectures.js';
import { Adam } from '../models/zoo/adam.js';
import { crossEntropy, trainStep } from '../models/zoo/step.js';
import { logitsOf, perturb } from '../attacks/index.js';
import { loadModel, saveModel } from '../src/io/fs-handler.js';
import { loadDataset } from '../src/data/index.js';
import { writeCifarFixture } from './helpers/datasets.js';

const root = mkdtempSync(join(tmpdir(), 'dcnet-paper-nets-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, 'data'));
writeCifarFixture(join(root, 'data'), { perBatch: 2, test: 4, seed: 5 });
const test = loadDataset('cifar10', { data: join(root, 'data'), split: 'test' });

const BATCH = 2;
const EPS = 8 / 255;
/** The first images of the fixture, cropped to `side` (resnet32 runs on 16x16 crops: its
 * every layer kind, stride-2 stages and shortcuts included, at a quarter of the cost). */
const batch = (side: number): { x: Tensor4D; y: Tensor1D } => ({
  x: tf.tidy(() => tf.slice(tf.tensor4d(test.images.subarray(0, BATCH * 32 * 32 * 3), [BATCH, 32, 32, 3]), [0, (32 - side) / 2, (32 - side) / 2, 0], [BATCH, side, side, 3])),
  y: tf.tensor1d(test.labels.subarray(0, BATCH), 'int32'),
});
const SIDE: Record<string, number> = { cnn9: 32, resnet32: 16 };

const OPERATORS: Array<{ operator: string; learnableRadius?: boolean }> = [
  { operator: 'standard' },
  { operator: 'tanh-cosine', learnableRadius: true }, // bounded
  { operator: 'seg-cosine', learnableRadius: false }, // unbounded, radius-dependent
];

/** Mean cross-entropy in inference mode, read back as a float. */
function meanLoss(model: tf.LayersModel, x: Tensor4D, y: Tensor1D): number {
  return tf.tidy(() => tf.mean(crossEntropy(logitsOf(model)(x), y, 0)).dataSync()[0]!);
}

describe.each(['cnn9', 'resnet32'])('%s on 3-channel images', (architecture) => {
  for (const { operator, learnableRadius } of OPERATORS) {
    const label = `${operator}${learnableRadius === undefined ? '' : learnableRadius ? ', learnable radius' : ', fixed radius'}`;
    it(label, async () => {
      const model = buildModel(architecture, {
        inputShape: [SIDE[architecture]!, SIDE[architecture]!, 3],
        numClasses: 10,
        operator,
        seed: 3,
        ...(learnableRadius === undefined ? {} : { operatorOptions: { learnableRadius } }),
      });
      const { x, y } = batch(SIDE[architecture]!);
      try {
        // Forward: logits of the right shape, finite.
        const logits = model.predict(x) as Tensor2D;
        expect(logits.shape).toEqual([BATCH, 10]);
        expect(Array.from(logits.dataSync()).every(Number.isFinite)).toBe(true);
        logits.dispose();
        expect(model.trainableWeights.some((w) => w.name.includes('radius'))).toBe(learnableRadius === true);

        // Attacks on the fresh model: two training steps leave a learnable-radius network's
        // moving norm statistics far from its inference activations (its input gradient in
        // inference mode falls to ~1e-14), like batch norm after two batches.
        // FGSM: exactly clip(x + eps * sign(gradient of the loss)), and no lower loss (an
        // untrained bounded network is nearly flat: an equal loss is possible).
        const tensorsBefore = tf.memory().numTensors;
        const fgsm = perturb('fgsm', logitsOf(model), x, y, EPS, {}, 1);
        const expected = tf.tidy(() => {
          const g = tf.grad((xx: Tensor4D) => tf.sum(crossEntropy(logitsOf(model)(xx), y, 0)))(x);
          return tf.clipByValue(tf.add(x, tf.mul(tf.sign(g), EPS)), 0, 1);
        });
        expect(tf.tidy(() => tf.max(tf.abs(tf.sub(fgsm, expected))).dataSync()[0])).toBeLessThan(1e-6);
        expect(meanLoss(model, fgsm, y)).toBeGreaterThanOrEqual(meanLoss(model, x, y));

        // BIM (2 full steps of eps/2): inside the ball and [0, 1], and no lower loss than clean.
        const bim = perturb('bim', logitsOf(model), x, y, EPS, { steps: 2, relStepSize: 0.5, earlyStop: false }, 1);
        const dist = tf.tidy(() => tf.max(tf.abs(tf.sub(bim, x))).dataSync()[0]!);
        expect(dist).toBeLessThanOrEqual(EPS + 1e-6);
        expect(dist).toBeGreaterThan(EPS / 4);
        expect(tf.tidy(() => tf.min(bim).dataSync()[0])).toBeGreaterThanOrEqual(0);
        expect(tf.tidy(() => tf.max(bim).dataSync()[0])).toBeLessThanOrEqual(1);
        expect(meanLoss(model, bim, y)).toBeGreaterThanOrEqual(meanLoss(model, x, y));
        tf.dispose([fgsm, expected, bim]);
        // The attacks left no tensors behind.
        expect(tf.memory().numTensors).toBe(tensorsBefore);

        // Training: the second step on the same batch starts from a lower loss than the first.
        const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
        const adam = new Adam(variables, { learningRate: 1e-3 });
        const first = trainStep(model, variables, adam, x, y, { labelSmoothing: 0, attackSeed: 1 });
        const second = trainStep(model, variables, adam, x, y, { labelSmoothing: 0, attackSeed: 1 });
        expect(Number.isFinite(first.loss)).toBe(true);
        expect(second.loss).toBeLessThan(first.loss);
        adam.dispose();

        // Save/load: the same outputs, bit for bit.
        const dir = join(root, `${architecture}-${operator}`);
        const before = model.predict(x) as Tensor2D;
        await saveModel(model, dir);
        const loaded = await loadModel(dir);
        const after = loaded.predict(x) as Tensor2D;
        expect(Array.from(after.dataSync())).toEqual(Array.from(before.dataSync()));
        tf.dispose([before, after]);
        loaded.dispose();
      } finally {
        tf.dispose([x, y]);
        model.dispose();
      }
    });
  }
});
