// Training-mode forward passes that recompute residual units and the cheap layers between
// convolutions (issue 10: resnet32 at batch 128 did not fit the wasm backend's 4 GiB heap).
// Held to the plain `model.apply` path on the cpu backend: same logits, gradients and
// batch-norm / radius statistics, and much less memory kept for the backward pass.
import { describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import { DecoupledConv2D } from '../src/layers/decoupled-conv2d.js';
import { parseOperatorId } from '../src/ops/options.js';
import { applyForTraining, trainingPlan, type PlanStep } from '../src/ops/recompute-layers.js';
import { onBackend, relativeDifference } from '../src/eval/cross-backend.js';
import { buildModel } from '../models/architectures.js';
import { Adam } from '../models/zoo/adam.js';
import { crossEntropy, trainStep } from '../models/zoo/step.js';
import { seededUniform } from './helpers/reference.js';

const SHAPE: [number, number, number] = [8, 8, 3];
const BATCH = 4;
const CLASSES = 3;

/**
 * A resnet32 in miniature, built like the real one (models/architectures.ts): root conv, BN,
 * ReLU; a unit with an identity shortcut; a stride-2 unit with a 1x1 projection shortcut; an
 * identity unit at the new width; global average pool and a 1x1 classifier.
 */
function miniResnet(operator: string, learnableRadius: boolean, seed = 1): tf.LayersModel {
  let next = seed * 100;
  const { magnitude, angular, weighting } = parseOperatorId(operator);
  const conv = (filters: number, kernelSize: number, strides = 1, plain = false) =>
    new DecoupledConv2D({
      filters,
      kernelSize,
      strides,
      padding: 'same',
      ...(plain || magnitude === 'standard' ? { magnitude: 'standard' } : { magnitude, angular, weighting, learnableRadius }),
      kernelInitializer: 'heNormal',
      seed: next++,
    } as never);
  const bn = (x: tf.SymbolicTensor) => tf.layers.batchNormalization({ axis: -1 }).apply(x) as tf.SymbolicTensor;
  const relu = (x: tf.SymbolicTensor) => tf.layers.reLU().apply(x) as tf.SymbolicTensor;
  const input = tf.input({ shape: SHAPE });
  let x = relu(bn(conv(4, 3).apply(input) as tf.SymbolicTensor));
  for (const [width, strides] of [[4, 1], [8, 2], [8, 1]] as const) {
    const y = bn(conv(width, 3).apply(relu(bn(conv(width, 3, strides).apply(x) as tf.SymbolicTensor))) as tf.SymbolicTensor);
    const shortcut = strides === 1 ? x : (conv(width, 1, strides, true).apply(x) as tf.SymbolicTensor);
    x = relu(tf.layers.add().apply([y, shortcut]) as tf.SymbolicTensor);
  }
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reshape({ targetShape: [1, 1, 8] }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(conv(CLASSES, 1, 1, true).apply(x)) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x });
}

/** Logits, loss gradients of every trainable weight, and every weight after the forward pass. */
function trainingPass(model: tf.LayersModel, apply: (m: tf.LayersModel, x: tf.Tensor) => tf.Tensor, dy: Float32Array) {
  const x = tf.tensor4d(seededUniform(BATCH * SHAPE[0] * SHAPE[1] * SHAPE[2], 21), [BATCH, ...SHAPE]);
  const upstream = tf.tensor2d(dy, [BATCH, CLASSES]);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const saved = model.getWeights().map((w) => tf.clone(w));
  let logits: Float32Array | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const z = apply(model, x);
    logits = z.dataSync() as Float32Array;
    return tf.sum(tf.mul(z, upstream)) as tf.Scalar;
  }, variables);
  const result = {
    logits: logits!,
    grads: variables.map((v) => grads[v.name]!.dataSync() as Float32Array),
    weights: model.getWeights().map((w) => w.dataSync() as Float32Array),
  };
  model.setWeights(saved); // the next pass starts from the same moving statistics
  tf.dispose([x, upstream, value, grads, saved]);
  return result;
}

const plainApply = (m: tf.LayersModel, x: tf.Tensor) => m.apply(x, { training: true }) as tf.Tensor;

/** Layer classes of a step, inner steps in brackets (for readable assertions). */
function describeStep(s: PlanStep): string {
  const names = s.inner ? s.inner.map(describeStep) : s.layers.map((l) => l.getClassName());
  return s.recomputed ? `[${names.join(' ')}]` : names.join(' ');
}

describe('trainingPlan', () => {
  it('makes every residual unit of resnet32 one recomputed step, projection shortcuts included', () => {
    const model = buildModel('resnet32', { inputShape: [8, 8, 1], numClasses: 10, operator: 'standard', seed: 0 });
    const plan = trainingPlan(model)!.map(describeStep);
    const conv = 'DecoupledConv2D';
    const identity = `[${conv} [BatchNormalization ReLU] ${conv} [BatchNormalization Add ReLU]]`;
    const projection = `[${conv} [BatchNormalization ReLU] ${conv} [BatchNormalization] ${conv} [Add ReLU]]`;
    const last = `[${conv} [BatchNormalization ReLU] ${conv} [BatchNormalization Add ReLU GlobalAveragePooling2D Reshape]]`;
    const stage = (first: string) => [first, identity, identity, identity, identity];
    expect(plan).toEqual([
      '[Rescaling]',
      conv,
      '[BatchNormalization ReLU]',
      ...stage(identity),
      ...stage(projection),
      ...stage(projection).slice(0, 4),
      last,
      conv,
      '[Flatten]',
    ]);
    model.dispose();
  });

  it('recomputes batch norm, ReLU and pooling between the convolutions of cnn9, never a convolution', () => {
    const model = buildModel('cnn9', { inputShape: [8, 8, 1], numClasses: 10, operator: 'tanh-cosine', seed: 0 });
    const plan = trainingPlan(model)!.map(describeStep);
    const block = ['DecoupledConv2D', '[BatchNormalization ReLU]'];
    const pooled = ['DecoupledConv2D', '[BatchNormalization ReLU MaxPooling2D]'];
    const stage = [...block, ...block, ...pooled];
    expect(plan).toEqual([...stage, ...stage, ...stage, ...block, 'DecoupledConv2D', '[Flatten]']);
    model.dispose();
  });
});

describe('applyForTraining', () => {
  const dy = seededUniform(BATCH * CLASSES, 22);
  for (const [operator, learnableRadius] of [['standard', false], ['seg-sigmoid', false], ['tanh-linear', true]] as const) {
    it(`${operator}${learnableRadius ? ', learnable radius' : ''}: the logits, gradients and statistics of model.apply`, async () => {
      await onBackend('cpu', () => {
        const model = miniResnet(operator, learnableRadius);
        const plain = trainingPass(model, plainApply, dy);
        const recomputed = trainingPass(model, applyForTraining, dy);
        // The forward pass runs the same ops in the same order.
        expect(recomputed.logits).toEqual(plain.logits);
        // Moving means, variances and patch norms updated once, to the same values.
        recomputed.weights.forEach((w, i) => expect(w).toEqual(plain.weights[i]));
        // Gradients up to the order in which the paths into a tensor are summed.
        expect(recomputed.grads.length).toBe(model.trainableWeights.length);
        recomputed.grads.forEach((g, i) => expect(relativeDifference(g, plain.grads[i]!)).toBeLessThan(1e-5));
        model.dispose();
      });
    });
  }

  for (const [operator, learnableRadius] of [['standard', false], ['tanh-linear', true]] as const) {
    it(`${operator}: a training step keeps under half the memory of model.apply, and leaks nothing`, async () => {
      await onBackend('cpu', async () => {
        const model = miniResnet(operator, learnableRadius);
        const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
        const adam = new Adam(variables, { learningRate: 1e-3 });
        const x = tf.tensor4d(seededUniform(BATCH * SHAPE[0] * SHAPE[1] * SHAPE[2], 23), [BATCH, ...SHAPE]);
        const y = tf.tensor1d([0, 1, 2, 0], 'float32');
        const peakOf = async (f: () => void) => {
          const before = tf.memory().numBytes;
          return (await tf.profile(f)).peakBytes - before;
        };
        // The step as it was: every activation and intermediate gradient kept to the end.
        const plain = await peakOf(() => {
          const { value, grads } = tf.variableGrads(
            () => tf.mean(crossEntropy(model.apply(x, { training: true }) as tf.Tensor2D, y, 0)) as tf.Scalar,
            variables,
          );
          tf.dispose([value, grads]);
        });
        const step = () => trainStep(model, variables, adam, x, y, { labelSmoothing: 0, attackSeed: 0 });
        step();
        const count = tf.memory().numTensors;
        const recomputed = await peakOf(step);
        expect(tf.memory().numTensors).toBe(count);
        // Plain: each unit's ~9 activations and as many gradients live until the gradient ends.
        // Recomputed: each unit's input, then one unit's activations and gradients at a time.
        expect(recomputed).toBeLessThan(plain / 2);
        tf.dispose([x, y]);
        adam.dispose();
        model.dispose();
      });
    });
  }

  it('agrees with the cpu reference on wasm, and leaves no wasm data behind', async () => {
    const [cpu, wasm] = [
      await onBackend('cpu', () => trainingPass(miniResnet('seg-sigmoid', true), plainApply, dy)),
      await onBackend('wasm', () => {
        const model = miniResnet('seg-sigmoid', true);
        trainingPass(model, applyForTraining, dy); // compiles the kernels
        const count = tf.memory().numTensors;
        const result = trainingPass(model, applyForTraining, dy);
        expect(tf.memory().numTensors).toBe(count);
        model.dispose();
        return result;
      }),
    ];
    expect(relativeDifference(wasm.logits, cpu.logits)).toBeLessThan(1e-4);
    wasm.grads.forEach((g, i) => expect(relativeDifference(g, cpu.grads[i]!)).toBeLessThan(1e-3));
  });
});
