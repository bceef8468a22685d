// The wasm backend (with the project's kernels) against the cpu reference at the layer
// shapes of the paper's networks: the logits, the input gradient and every weight gradient
// of a small network made of cnn9's and resnet32's layer kinds at their channel counts
// (3-channel first layer, 128-256 channels, a stride-2 convolution with a 1x1 stride-2
// shortcut and a residual add, batch norm, max-pool, a 4x4-valid convolution, a 1x1
// classifier), standard and decoupled, in training mode. Spatial sizes are cut to keep it
// CI-sized: the whole networks on the cpu backend take minutes.
import { describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import type { Tensor, Tensor4D } from '../src/tf.js';
import { DecoupledConv2D } from '../src/layers/decoupled-conv2d.js';
import { parseOperatorId } from '../src/ops/options.js';
import { relativeError, seededUniform } from './helpers/reference.js';

/** The paper networks' layer kinds at their channel counts, on 2 x 16x16x3 images. */
function paperLayers(operator: string): tf.LayersModel {
  const op = parseOperatorId(operator);
  let seed = 1;
  const conv = (filters: number, kernelSize: number, strides = 1, padding: 'same' | 'valid' = 'same', plain = false) =>
    new DecoupledConv2D({ filters, kernelSize, strides, padding, ...(plain ? { magnitude: 'standard' } : op), kernelInitializer: 'heNormal', seed: seed++ } as never);
  const bn = (t: tf.SymbolicTensor) => tf.layers.batchNormalization({ axis: -1 }).apply(t) as tf.SymbolicTensor;
  const relu = (t: tf.SymbolicTensor) => tf.layers.reLU().apply(t) as tf.SymbolicTensor;
  const input = tf.input({ shape: [16, 16, 3] });
  let x = relu(bn(conv(128, 3).apply(input) as tf.SymbolicTensor)); // 3-channel first layer
  const y = bn(conv(192, 3, 2).apply(x) as tf.SymbolicTensor); // stride 2: 8x8
  const shortcut = conv(192, 1, 2, 'same', true).apply(x) as tf.SymbolicTensor; // 1x1 stride-2 shortcut
  x = relu(tf.layers.add().apply([y, shortcut]) as tf.SymbolicTensor);
  x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same' }).apply(x) as tf.SymbolicTensor; // 4x4
  x = relu(bn(conv(256, 3).apply(x) as tf.SymbolicTensor));
  x = relu(bn(conv(256, 4, 1, 'valid').apply(x) as tf.SymbolicTensor)); // cnn9's 4x4-valid layer: 1x1
  x = conv(10, 1, 1, 'same', true).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: tf.layers.flatten().apply(x) as tf.SymbolicTensor });
}

const REL_TOL = 2e-4;

interface Outputs {
  logits: Float32Array;
  inputGradient: Float32Array;
  /** In the order of the model's trainable weights (names differ between the two models). */
  weightGradients: Array<[string, Float32Array]>;
}

/**
 * Logits and gradients of sum(logits * r) on one backend, with the given initial weights:
 * one forward and one backward pass (the input is a variable like the weights).
 */
async function run(backend: string, operator: string, weights?: Float32Array[]): Promise<Outputs & { weights: Float32Array[] }> {
  await tf.setBackend(backend);
  const model = paperLayers(operator);
  try {
    if (weights) model.setWeights(weights.map((w, i) => tf.tensor(w, model.getWeights()[i]!.shape)));
    const x = tf.variable(tf.tensor4d(seededUniform(2 * 16 * 16 * 3, 11, 0, 1), [2, 16, 16, 3]), true, `x_${backend}_${operator}`);
    const r = tf.tensor2d(seededUniform(20, 12, -1, 1), [2, 10]);
    let logits = new Float32Array();
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => {
      const out = model.apply(x as unknown as Tensor4D, { training: true }) as Tensor;
      logits = out.dataSync() as Float32Array;
      return tf.sum(tf.mul(out, r)) as tf.Scalar;
    }, [x, ...variables]);
    const inputGradient = grads[x.name]!.dataSync() as Float32Array;
    const weightGradients = variables.map((v) => [v.name, grads[v.name]!.dataSync() as Float32Array] as [string, Float32Array]);
    tf.dispose([value, ...Object.values(grads), x, r]);
    return { logits, inputGradient, weightGradients, weights: model.getWeights().map((w) => w.dataSync() as Float32Array) };
  } finally {
    model.dispose();
  }
}

describe('wasm matches the cpu backend at the paper networks\' layer shapes', () => {
  for (const operator of ['standard', 'tanh-cosine', 'linear-cosine']) {
    it(operator, async () => {
      const wasm = await run('wasm', operator);
      const cpu = await run('cpu', operator, wasm.weights);
      await tf.setBackend('wasm');
      expect(relativeError(wasm.logits, cpu.logits)).toBeLessThanOrEqual(REL_TOL);
      expect(relativeError(wasm.inputGradient, cpu.inputGradient)).toBeLessThanOrEqual(REL_TOL);
      expect(wasm.weightGradients.length).toBe(cpu.weightGradients.length);
      wasm.weightGradients.forEach(([name, g], i) => expect(relativeError(g, cpu.weightGradients[i]![1]), name).toBeLessThanOrEqual(REL_TOL));
    }, 600_000); // minutes on a loaded 2-core machine
  }
});
