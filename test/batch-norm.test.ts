// ChannelBatchNorm and its fused ops (src/ops/batch-norm.ts, the wasm kernels of
// src/wasm-kernels/channel-stats.ts): values and gradients against TF.js's own batch norm
// on the cpu backend, against a float64 finite-difference reference written here, wasm
// against cpu, inference on the moving statistics, and no tensor left behind.
import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import type { Tensor } from '../src/tf.js';
import { ChannelBatchNorm } from '../src/layers/batch-norm.js';
import { batchNormTraining, channelMoments, channelSums } from '../src/ops/batch-norm.js';
import { buildModel } from '../models/architectures.js';
import { applyForTraining } from '../src/ops/recompute-layers.js';
import { maxAbsDiff, relativeError, seededUniform } from './helpers/reference.js';

const EPS = 1e-3;

/** x, gamma, beta and an output weighting w (the loss is sum(w * y)). */
function operands(shape: number[], seed: number, offset = 0) {
  const c = shape[shape.length - 1]!;
  const size = shape.reduce((a, b) => a * b, 1);
  return {
    shape,
    x: seededUniform(size, seed, -1 + offset, 2 + offset),
    gamma: seededUniform(c, seed + 1, 0.5, 1.5),
    beta: seededUniform(c, seed + 2, -0.5, 0.5),
    w: seededUniform(size, seed + 3, -1, 1),
  };
}
type Operands = ReturnType<typeof operands>;

/** y, dL/dx, dL/dgamma, dL/dbeta of L = sum(w * op(x, gamma, beta)) on the current backend. */
function valueAndGrads(o: Operands, op: (x: Tensor, g: Tensor, b: Tensor) => Tensor): Float32Array[] {
  const c = o.gamma.length;
  return tf.tidy(() => {
    const [x, g, b, w] = [tf.tensor(o.x, o.shape), tf.tensor1d(o.gamma), tf.tensor1d(o.beta), tf.tensor(o.w, o.shape)];
    const y = op(x, g, b);
    const grads = tf.grads((xi: Tensor, gi: Tensor, bi: Tensor) => tf.sum(tf.mul(op(xi, gi, bi), w)))([x, g, b]);
    expect(grads[1]!.shape).toEqual([c]);
    return [y, ...grads].map((t) => Float32Array.from(t.dataSync()));
  });
}

const ours = (x: Tensor, g: Tensor, b: Tensor) => {
  const r = batchNormTraining(x, g, b, EPS);
  tf.dispose([r.mean, r.variance]);
  return r.y;
};
/** TF.js's own: the moments and batchNorm ops that tf.layers.batchNormalization uses. */
const tfjs = (x: Tensor, g: Tensor, b: Tensor) => {
  const { mean, variance } = tf.moments(x, x.shape.slice(0, -1).map((_, i) => i));
  return tf.batchNorm(x, mean, variance, b, g, EPS);
};

/** The loss L = sum(w * BN(x)) in float64. */
function loss64(o: Operands, x: Float64Array, gamma: Float64Array, beta: Float64Array): number {
  const c = gamma.length;
  const m = x.length / c;
  let total = 0;
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let p = 0; p < m; p++) s += x[p * c + ch]!;
    const mean = s / m;
    let q = 0;
    for (let p = 0; p < m; p++) q += (x[p * c + ch]! - mean) ** 2;
    const inv = 1 / Math.sqrt(q / m + EPS);
    for (let p = 0; p < m; p++) total += o.w[p * c + ch]! * ((x[p * c + ch]! - mean) * inv * gamma[ch]! + beta[ch]!);
  }
  return total;
}

/** Central differences of loss64 in every x, gamma and beta. */
function finiteDifferences(o: Operands): Float64Array[] {
  const parts = [Float64Array.from(o.x), Float64Array.from(o.gamma), Float64Array.from(o.beta)];
  const h = 1e-5;
  return parts.map((v) =>
    Float64Array.from(v, (orig, i) => {
      v[i] = orig + h;
      const up = loss64(o, parts[0]!, parts[1]!, parts[2]!);
      v[i] = orig - h;
      const down = loss64(o, parts[0]!, parts[1]!, parts[2]!);
      v[i] = orig;
      return (up - down) / (2 * h);
    }),
  );
}

async function onBackend<T>(name: string, body: () => T): Promise<T> {
  const before = tf.getBackend();
  await tf.setBackend(name);
  try {
    return body();
  } finally {
    await tf.setBackend(before);
  }
}

afterAll(async () => {
  await tf.setBackend('wasm');
});

describe('batch norm with its own gradient', () => {
  it('matches a float64 finite-difference reference (cpu)', async () => {
    const o = operands([3, 4, 5, 6], 11);
    const [, dx, dg, db] = await onBackend('cpu', () => valueAndGrads(o, ours));
    const [fx, fg, fb] = finiteDifferences(o);
    expect(maxAbsDiff(dx!, fx!)).toBeLessThan(2e-3);
    expect(maxAbsDiff(dg!, fg!)).toBeLessThan(2e-3);
    expect(maxAbsDiff(db!, fb!)).toBeLessThan(2e-3);
  });

  it("matches TF.js's batch norm and its automatic gradient (cpu)", async () => {
    const o = operands([4, 7, 7, 8], 21, 3);
    const got = await onBackend('cpu', () => valueAndGrads(o, ours));
    const want = await onBackend('cpu', () => valueAndGrads(o, tfjs));
    got.forEach((g, i) => expect(relativeError(g, want[i]!), `output ${i}`).toBeLessThan(1e-4));
  });

  // Channels in fours run the generated kernels (one block of 64 pixels and a rest, or many
  // blocks); 6 channels run TF.js's ops on wasm too.
  for (const shape of [[2, 5, 7, 8], [16, 14, 14, 64], [8, 28, 28, 32], [3, 3, 3, 6], [70, 4]]) {
    it(`wasm matches cpu, values and gradients, x [${shape}]`, async () => {
      expect(tf.getKernel('ChannelSums', 'wasm'), 'the generated kernels are installed').toBeDefined();
      const o = operands(shape, 31 + shape.length, 5);
      const want = await onBackend('cpu', () => valueAndGrads(o, ours));
      const wasm = tf.findBackend('wasm') as unknown as { numDataIds(): number };
      const before = wasm.numDataIds();
      const got = await onBackend('wasm', () => valueAndGrads(o, ours));
      expect(wasm.numDataIds(), 'wasm data left behind').toBe(before);
      got.forEach((g, i) => expect(relativeError(g, want[i]!), `output ${i}`).toBeLessThan(2e-4));
    });
  }

  it('the channel sums on wasm equal float64 sums', async () => {
    const shape = [9, 11, 13, 16];
    const o = operands(shape, 41, 10);
    const c = 16;
    const ka = seededUniform(c, 42, 9, 11);
    const kb = seededUniform(c, 43, -1, 1);
    const [s, q] = await onBackend('wasm', () =>
      tf.tidy(() => channelSums(tf.tensor(o.x, shape), tf.tensor(o.w, shape), tf.tensor1d(ka), tf.tensor1d(kb)).map((t) => Float32Array.from(t.dataSync()))),
    );
    const ws = new Float64Array(c);
    const wq = new Float64Array(c);
    for (let i = 0; i < o.x.length; i++) {
      const ch = i % c;
      ws[ch] += o.x[i]! - ka[ch]!;
      wq[ch] += (o.x[i]! - ka[ch]!) * (o.w[i]! - kb[ch]!);
    }
    expect(relativeError(s!, ws)).toBeLessThan(1e-5);
    expect(relativeError(q!, wq)).toBeLessThan(1e-5);
  });

  it('moments stay accurate when the mean is large next to the spread', async () => {
    const shape = [64, 10, 10, 4];
    const size = shape.reduce((a, b) => a * b, 1);
    const x = Float32Array.from(seededUniform(size, 51, -1, 1), (v) => 1000 + v);
    const { mean, variance } = await onBackend('wasm', () =>
      tf.tidy(() => {
        const r = channelMoments(tf.tensor(x, shape));
        return { mean: Float32Array.from(r.mean.dataSync()), variance: Float32Array.from(r.variance.dataSync()) };
      }),
    );
    for (let ch = 0; ch < 4; ch++) {
      let s = 0;
      let q = 0;
      const m = size / 4;
      for (let p = 0; p < m; p++) s += x[p * 4 + ch]!;
      for (let p = 0; p < m; p++) q += (x[p * 4 + ch]! - s / m) ** 2;
      expect(Math.abs(mean[ch]! - s / m)).toBeLessThan(1e-3);
      expect(Math.abs(variance[ch]! - q / m) / (q / m)).toBeLessThan(1e-3);
    }
  });
});

describe('ChannelBatchNorm layer', () => {
  it('trains and infers as tf.layers.batchNormalization (values, moving averages)', async () => {
    const shape = [6, 5, 5, 8];
    const o = operands(shape, 61, 2);
    const run = (layer: tf.layers.Layer) =>
      tf.tidy(() => {
        const x = tf.tensor(o.x, shape);
        const train = layer.apply(x, { training: true }) as Tensor;
        const again = layer.apply(x, { training: true }) as Tensor;
        const infer = layer.apply(x, { training: false }) as Tensor;
        return [train, again, infer, ...layer.getWeights()].map((t) => Float32Array.from(t.dataSync()));
      });
    const got = await onBackend('wasm', () => run(new ChannelBatchNorm()));
    const want = await onBackend('cpu', () => run(tf.layers.batchNormalization({ axis: -1 })));
    got.forEach((g, i) => expect(relativeError(g, want[i]!), `output ${i}`).toBeLessThan(2e-4));
  });

  it('inference uses the moving statistics', () => {
    const layer = new ChannelBatchNorm({ epsilon: 0.01 });
    layer.build([null, 2, 2, 4]);
    const [g, b, mm, mv] = [[1, 2, 0.5, 1], [0, 1, -1, 0.5], [0.3, -0.2, 1, 0], [4, 1, 0.25, 2]];
    layer.setWeights([g, b, mm, mv].map((v) => tf.tensor1d(v)));
    const x = seededUniform(16, 71, -2, 2);
    const y = tf.tidy(() => (layer.apply(tf.tensor(x, [1, 2, 2, 4]), { training: false }) as Tensor).dataSync());
    const want = Array.from(x, (v, i) => {
      const c = i % 4;
      return ((v - mm[c]!) / Math.sqrt(mv[c]! + 0.01)) * g[c]! + b[c]!;
    });
    expect(maxAbsDiff(y, want)).toBeLessThan(1e-5);
    tf.dispose(layer.weights.map((w) => w.read()));
  });

  it('small-cnn-bn saves and loads to identical outputs, and leaks no tensor over 100 training steps', async () => {
    const model = buildModel('small-cnn-bn', { inputShape: [8, 8, 1], numClasses: 3, operator: 'tanh-cosine', seed: 3 });
    expect(model.layers.filter((l) => l instanceof ChannelBatchNorm)).toHaveLength(2);
    const x = tf.tensor4d(seededUniform(4 * 64, 81, 0, 1), [4, 8, 8, 1]);
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const optimizer = tf.train.sgd(0.01);
    const step = () => optimizer.minimize(() => tf.sum(tf.square(applyForTraining(model, x))) as tf.Scalar, false, variables);
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    optimizer.dispose();
    // Round trip through the layers format.
    const artifacts = await new Promise<tf.io.ModelArtifacts>((resolve) => {
      void model.save(tf.io.withSaveHandler(async (a) => (resolve(a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    });
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const a = tf.tidy(() => (model.predict(x) as Tensor).dataSync());
    const b = tf.tidy(() => (loaded.predict(x) as Tensor).dataSync());
    expect(Array.from(b)).toEqual(Array.from(a));
    tf.dispose([x]);
    model.dispose();
    loaded.dispose();
  });
});
