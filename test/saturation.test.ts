// The saturation table (src/eval/saturation.ts) against patch norms worked out here by hand,
// for a fixed and a learnable radius, and its section in the report.
import { describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import { DecoupledConv2D } from '../src/layers/decoupled-conv2d.js';
import { measureSaturation, saturationShares } from '../src/eval/saturation.js';
import { saturationSection } from '../reports/markdown.js';
import type { ModelResult } from '../reports/model-result.js';

/** input [1, 2, 2, 1] -> one decoupled layer -> flatten -> dense 2. */
function oneLayerModel(layer: DecoupledConv2D): tf.LayersModel {
  const input = tf.input({ shape: [2, 2, 1] });
  const y = layer.apply(input) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: 2, kernelInitializer: 'ones' }).apply(tf.layers.flatten().apply(y)) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits });
}

const PIXELS = [0.5, -2, 3, 0.1];
const norm = (v: number) => Math.sqrt(v * v + 1e-4);

describe('saturation', () => {
  it('1x1 patches, fixed radius 1: the pixels with |x| > 1', () => {
    const model = oneLayerModel(new DecoupledConv2D({ filters: 3, kernelSize: 1, magnitude: 'ball', radius: 1 }));
    const x = tf.tensor4d(PIXELS, [1, 2, 2, 1]);
    // By hand: |x| = 0.5001, 2.00003, 3.00002, 0.1005: two of four past 1.
    expect(PIXELS.filter((v) => norm(v) > 1)).toHaveLength(2);
    expect(saturationShares(model, x)).toEqual([0.5]);
    tf.dispose(x);
    model.dispose();
  });

  it('2x2 valid patch (the whole image) against radii 3 and 4', () => {
    // |patch| = sqrt(0.25 + 4 + 9 + 0.01 + 1e-4) = 3.6414...: past 3, not past 4.
    const energy = Math.sqrt(PIXELS.reduce((s, v) => s + v * v, 0) + 1e-4);
    expect(energy).toBeGreaterThan(3);
    expect(energy).toBeLessThan(4);
    for (const [radius, share] of [[3, 1], [4, 0]] as const) {
      const model = oneLayerModel(new DecoupledConv2D({ filters: 2, kernelSize: 2, padding: 'valid', magnitude: 'tanh', radius }));
      const x = tf.tensor4d(PIXELS, [1, 2, 2, 1]);
      expect(saturationShares(model, x)).toEqual([share]);
      tf.dispose(x);
      model.dispose();
    }
  });

  it('learnable radius: rho = (r^2 + 1e-4) x moving mean norm, per output channel', () => {
    const layer = new DecoupledConv2D({ filters: 2, kernelSize: 1, magnitude: 'ball', learnableRadius: true });
    const model = oneLayerModel(layer);
    // r = [1, 2]; moving norm sum 0.6 over weight 0.5: m = 1.2, so rho = [1.20012, 4.80048].
    const [kernel] = layer.getWeights();
    layer.setWeights([kernel!, tf.tensor1d([1, 2]), tf.scalar(0.6), tf.scalar(0.5)]);
    const rho = [1.0001 * 1.2, 4.0001 * 1.2];
    // Channel 0: 2.0 and 3.0 are past 1.2; channel 1: none past 4.8. 2 of 8 pairs.
    const pairs = PIXELS.flatMap((v) => rho.map((r) => norm(v) > r));
    expect(pairs.filter(Boolean)).toHaveLength(2);
    const x = tf.tensor4d(PIXELS, [1, 2, 2, 1]);
    expect(saturationShares(model, x)[0]).toBeCloseTo(0.25, 6);
    tf.dispose(x);
    model.dispose();
  });

  it('measures clean and adversarial shares over batches, and the report shows them', () => {
    const model = oneLayerModel(new DecoupledConv2D({ filters: 2, kernelSize: 1, magnitude: 'ball', radius: 1 }));
    const images = Float32Array.from([0.5, 0.95, 0.3, 0.1, 0.2, 0.2, 0.2, 0.2, 1, 1, 1, 1]);
    const data = { images, labels: Int32Array.from([0, 1, 0]), shape: [2, 2, 1] as [number, number, number], count: 3 };
    const before = tf.memory().numTensors;
    const r = measureSaturation(model, data, { name: 'fgsm' }, 0.1, 0, 3, 2)!;
    expect(tf.memory().numTensors).toBe(before);
    // Clean: one pixel of 12 past 1? none (1 + 1e-4 under the root: sqrt(1.0001) > 1 for the four 1s).
    const cleanByHand = Array.from(images, (v) => norm(v) > 1).filter(Boolean).length / 12;
    expect(r.layers[0]!.clean).toBeCloseTo(cleanByHand, 6);
    expect(r.layers[0]!.adversarial).toBeGreaterThanOrEqual(0);
    expect(r.points).toBe(3);
    const m = { model: { id: 'fashion-mnist/small-cnn/ball-cosine/standard/s0' }, saturation: r } as unknown as ModelResult;
    const lines = saturationSection({ models: [m] } as never).join('\n');
    expect(lines).toContain('## Saturation of the decoupled layers');
    expect(lines).toContain(`| ${(100 * cleanByHand).toFixed(1)} |`);
    model.dispose();
  });

  it('the baseline has no decoupled layer: no table', () => {
    const model = oneLayerModel(new DecoupledConv2D({ filters: 2, kernelSize: 1, magnitude: 'standard' }));
    const data = { images: new Float32Array(4), labels: Int32Array.from([0]), shape: [2, 2, 1] as [number, number, number], count: 1 };
    expect(measureSaturation(model, data, { name: 'fgsm' }, 0.1, 0, 1)).toBeUndefined();
    model.dispose();
  });
});
