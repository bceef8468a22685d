// AutoAttack on small trained models (a standard and a decoupled CNN, embedded Fashion-MNIST):
// the ensemble is at least as strong as PGD and as each member on the same points, and
// APGD-CE with 100 iterations at least as strong as 10-step BIM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import { DecoupledConv2D } from '../src/layers/decoupled-conv2d.js';
import { loadDataset } from '../src/data/index.js';
import { evaluate } from '../src/eval/index.js';
import { createContext } from '../attacks/context.js';
import { logitsOf, misclassified, perturb, resolveParams, runAutoAttack, getAttack, type LogitsFn } from '../attacks/index.js';

// Small enough that every attack leaves robust points (about 40% at this budget), so "<=" compares real numbers.
const EPS = 0.04;
const N = 60;
// Reduced budgets keep the suite fast; the comparisons hold for any budget (same points, same seed).
const AA = { steps: 20, targets: 2, fabSteps: 10, queries: 200 };

function tinyCnn(decoupled: boolean): tf.Sequential {
  const first = decoupled
    ? new DecoupledConv2D({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, magnitude: 'tanh', angular: 'cosine', seed: 1 })
    : tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) });
  return tf.sequential({
    layers: [
      first,
      tf.layers.reLU(),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
    ],
  });
}

const models: Array<{ name: string; model: tf.Sequential; logits: LogitsFn }> = [];
let x: tf.Tensor4D;
let y: tf.Tensor1D;

beforeAll(async () => {
  const train = loadDataset('fashion-mnist-embedded', { split: 'train', limit: 3000 });
  const test = loadDataset('fashion-mnist-embedded', { split: 'test', limit: N });
  const xs = tf.tensor4d(train.images, [3000, 28, 28, 1]);
  const ys = tf.oneHot(tf.tensor1d(train.labels, 'int32'), 10);
  for (const decoupled of [false, true]) {
    const model = tinyCnn(decoupled);
    model.compile({ optimizer: tf.train.adam(2e-3), loss: tf.losses.softmaxCrossEntropy });
    await model.fit(xs, ys, { epochs: 3, batchSize: 64, verbose: 0, shuffle: false });
    models.push({ name: decoupled ? 'tanh-cosine' : 'standard', model, logits: logitsOf(model) });
  }
  tf.dispose([xs, ys]);
  x = tf.tensor4d(test.images, [N, 28, 28, 1]);
  y = tf.tensor1d(test.labels, 'int32');
}, 600_000);

afterAll(() => {
  tf.dispose([x, y]);
  for (const m of models) m.model.dispose();
});

/** Points the model gets right and the attack does not fool (robust accuracy numerator). */
function robustCount(logits: LogitsFn, adv: tf.Tensor4D): number {
  const wrong = tf.tidy(() => misclassified(logits(adv), y)).dataSync();
  adv.dispose();
  return Array.from(wrong).filter((v) => !v).length;
}

describe.each([0, 1])('trained small CNN #%i', (i) => {
  it('is a usable model (clean accuracy well above chance)', () => {
    const clean = robustCount(models[i]!.logits, x.clone());
    expect(clean / N).toBeGreaterThan(0.6);
  });

  it('autoattack robust accuracy <= PGD and <= each member alone, on the same points', () => {
    const { logits } = models[i]!;
    const aa = runAutoAttack(createContext(logits, x, y, EPS, resolveParams(getAttack('autoattack'), AA), 0));
    const worst = robustCount(logits, aa.adv);
    const pgd = robustCount(logits, perturb('pgd', logits, x, y, EPS, { steps: 20, relStepSize: 0.1 }, 0));
    const clean = robustCount(logits, x.clone());
    expect(pgd).toBeGreaterThan(0);
    expect(worst).toBeLessThan(clean);
    expect(worst).toBeLessThanOrEqual(pgd);
    // The cumulative record ends at the ensemble's result; each member alone is no stronger.
    expect(aa.members.map((m) => m.name)).toEqual(['apgd-ce', 'apgd-t', 'fab-t', 'square']);
    expect(N - aa.members.at(-1)!.fooled.reduce((s, v) => s + v, 0)).toBe(worst);
    for (const m of aa.members) {
      const alone = robustCount(logits, perturb(m.name, logits, x, y, EPS, m.params, 0));
      expect(worst).toBeLessThanOrEqual(alone);
    }
  });

  it('evaluate records the ensemble member by member, ending at its robust accuracy', async () => {
    const { logits } = models[i]!;
    const r = await evaluate({
      logits,
      images: x.dataSync() as Float32Array,
      labels: y.dataSync() as Int32Array,
      shape: [28, 28, 1],
      attacks: [{ name: 'autoattack', epsilons: [EPS], params: AA }],
      checks: false,
      batch: 30,
    });
    const e = r.attacks[0]!.results[0]!;
    expect(e.members!.map((m) => m.attack)).toEqual(['apgd-ce', 'apgd-t', 'fab-t', 'square']);
    const acc = e.members!.map((m) => m.robust.correct);
    acc.slice(1).forEach((v, k) => expect(v).toBeLessThanOrEqual(acc[k]!));
    expect(acc.at(-1)).toBe(e.robust.correct);
    expect(acc[0]).toBeLessThanOrEqual(r.clean.correct);
  });

  it('APGD-CE with 100 iterations is at least as strong as 10-step BIM', () => {
    const { logits } = models[i]!;
    const apgd = robustCount(logits, perturb('apgd-ce', logits, x, y, EPS, { steps: 100 }, 0));
    const bim = robustCount(logits, perturb('bim', logits, x, y, EPS, { steps: 10, relStepSize: 0.25 }, 0));
    expect(apgd).toBeLessThanOrEqual(bim);
  });
});
