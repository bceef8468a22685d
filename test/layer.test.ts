// The DecoupledConv2D layer: save/load round trips, learnable radius, weight projection.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import type { Tensor4D } from '../src/tf.js';
import { DecoupledConv2D } from '../src/layers/decoupled-conv2d.js';
import { projectWeights, WeightProjection, weightProjectionCallback } from '../src/layers/weight-projection.js';
import { filterNorm, decoupledConv2d } from '../src/ops/decoupled.js';
import { loadModel, saveModel } from '../src/io/fs-handler.js';
import { ANGULARS, MAGNITUDES, WEIGHTINGS } from '../src/ops/options.js';
import { maxAbsDiff, seededUniform } from './helpers/reference.js';

const dir = mkdtempSync(join(tmpdir(), 'dcnet-layer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tinyModel(layerArgs: Record<string, unknown>): tf.Sequential {
  const model = tf.sequential();
  model.add(new DecoupledConv2D({ inputShape: [9, 9, 2], filters: 4, kernelSize: 3, ...layerArgs } as never));
  model.add(tf.layers.reLU());
  model.add(new DecoupledConv2D({ filters: 3, kernelSize: 3, strides: 2, padding: 'valid', ...layerArgs } as never));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 3 }));
  return model;
}

const X = () => tf.tensor4d(seededUniform(4 * 9 * 9 * 2, 42, 0, 1), [4, 9, 9, 2]);

describe('save/load round trip gives identical outputs', () => {
  const variants: Array<Record<string, unknown>> = [{ magnitude: 'standard' }];
  for (const magnitude of MAGNITUDES) for (const angular of ANGULARS) variants.push({ magnitude, angular });
  for (const weighting of WEIGHTINGS) variants.push({ magnitude: 'tanh', angular: 'sigmoid', weighting, radius: 0.7, k: 0.5 });
  variants.push({ magnitude: 'tanh', angular: 'cosine', learnableRadius: true });
  variants.push({ magnitude: 'ball', angular: 'linear', learnableRadius: true, weighting: 'linear' });
  variants.push({ magnitude: 'seg', angular: 'sqcosine', learnableRadius: true, beta: 0.25 });

  variants.forEach((args, i) => {
    it(JSON.stringify(args), async () => {
      const model = tinyModel(args);
      if (args.learnableRadius) {
        // Train a few steps so the radius and its moving statistic leave their initial values.
        model.compile({ optimizer: tf.train.adam(0.05), loss: 'meanSquaredError' });
        await model.fit(X(), tf.randomNormal([4, 3], 0, 1, 'float32', 1), { epochs: 3, batchSize: 2, verbose: 0 });
      }
      const before = model.predict(X()) as tf.Tensor;
      const path = join(dir, `m${i}`);
      await saveModel(model, path);
      const loaded = await loadModel(path);
      const after = loaded.predict(X()) as tf.Tensor;
      expect(maxAbsDiff(before.dataSync(), after.dataSync())).toBe(0);
      const layer = loaded.layers[0] as DecoupledConv2D;
      expect(layer).toBeInstanceOf(DecoupledConv2D);
      expect(layer.getConfig()).toEqual((model.layers[0] as DecoupledConv2D).getConfig());
      if (args.learnableRadius) {
        const r = layer.radiusScale!.read().dataSync();
        expect(Array.from(r).some((v) => Math.abs(v - 1) > 1e-4)).toBe(true);
        expect(layer.movingWeight!.read().dataSync()[0]).toBeGreaterThan(0);
      }
    });
  });
});

describe('learnable radius', () => {
  it('uses (r^2 + 1e-4) * mean patch norm while training and the moving average at inference', () => {
    const layer = new DecoupledConv2D({ filters: 2, kernelSize: 3, magnitude: 'tanh', angular: 'cosine', learnableRadius: true, radiusMomentum: 0.9 });
    const x = X();
    layer.apply(x); // builds
    const w = layer.kernel.read() as Tensor4D;
    const rValues = [0.5, 2];
    layer.radiusScale!.write(tf.tensor1d(rValues));
    // Training call: rho = (r^2 + 1e-4) * mean |x| of this batch.
    const trained = layer.apply(x, { training: true }) as tf.Tensor;
    const meanNorm = tf.mean(tf.sqrt(tf.add(tf.conv2d(tf.sum(tf.square(x), -1, true) as Tensor4D, tf.ones([3, 3, 1, 1]) as Tensor4D, 1, 'same'), 1e-4))).dataSync()[0]!;
    for (let c = 0; c < 2; c++) {
      const rho = (rValues[c]! ** 2 + 1e-4) * meanNorm;
      const expected = decoupledConv2d(x, w.slice([0, 0, 0, c], [3, 3, 2, 1]) as Tensor4D, { magnitude: 'tanh', angular: 'cosine', radius: rho });
      const got = trained.slice([0, 0, 0, c], [4, 9, 9, 1]);
      expect(maxAbsDiff(got.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
    }
    // One step with decay 0.9: the bias-corrected average equals that batch's mean exactly.
    const inference = layer.apply(x, { training: false }) as tf.Tensor;
    expect(maxAbsDiff(inference.dataSync(), trained.dataSync())).toBeLessThan(1e-5);
    // A second batch with twice the norm: the average moves towards it.
    layer.apply(tf.mul(x, 2), { training: true });
    const moving = layer.movingNorm!.read().dataSync()[0]! / layer.movingWeight!.read().dataSync()[0]!;
    const expectedMoving = (0.9 * 0.1 * meanNorm + 0.1 * 2 * meanNorm) / (1 - 0.81);
    expect(Math.abs(moving - expectedMoving) / expectedMoving).toBeLessThan(1e-2);
  });

  it('receives a gradient', () => {
    const layer = new DecoupledConv2D({ filters: 2, kernelSize: 3, magnitude: 'tanh', learnableRadius: true });
    const x = X();
    layer.apply(x);
    const { grads } = tf.variableGrads(() => tf.sum(layer.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, [layer.radiusScale!.read() as tf.Variable]);
    const g = Object.values(grads)[0]!;
    expect(tf.all(tf.isFinite(g)).dataSync()[0]).toBe(1);
    expect(tf.max(tf.abs(g)).dataSync()[0]).toBeGreaterThan(0);
  });
});

describe('weight projection', () => {
  it('sets every decoupled filter to unit norm without changing the output', () => {
    const model = tinyModel({ magnitude: 'tanh', angular: 'cosine' });
    const before = (model.predict(X()) as tf.Tensor).dataSync();
    expect(projectWeights(model)).toBe(2);
    const after = (model.predict(X()) as tf.Tensor).dataSync();
    // Norms carry the 1e-4 epsilon, so outputs agree to float rounding, not bit for bit.
    expect(maxAbsDiff(before, after)).toBeLessThan(1e-4);
    for (const layer of model.layers.filter((l) => l instanceof DecoupledConv2D) as DecoupledConv2D[]) {
      const norms = filterNorm(layer.kernel.read() as Tensor4D).dataSync();
      for (const n of norms) expect(Math.abs(n - Math.sqrt(1 + 1e-4))).toBeLessThan(1e-3);
    }
  });

  it('runs every `period` steps, also as a model.fit callback', async () => {
    const model = tinyModel({ magnitude: 'ball', angular: 'cosine' });
    const layer = model.layers[0] as DecoupledConv2D;
    layer.kernel.write(tf.mul(layer.kernel.read(), 5));
    const projection = new WeightProjection(model, 3);
    expect([projection.afterStep(), projection.afterStep(), projection.afterStep()]).toEqual([false, false, true]);
    expect(Math.abs(filterNorm(layer.kernel.read() as Tensor4D).dataSync()[0]! - 1)).toBeLessThan(1e-3);

    layer.kernel.write(tf.mul(layer.kernel.read(), 5));
    model.compile({ optimizer: tf.train.sgd(0), loss: 'meanSquaredError' });
    await model.fit(X(), tf.zeros([4, 3]), { epochs: 1, batchSize: 2, verbose: 0, callbacks: [weightProjectionCallback(model, 2)] });
    expect(Math.abs(filterNorm(layer.kernel.read() as Tensor4D).dataSync()[0]! - 1)).toBeLessThan(1e-3);
  });
});
