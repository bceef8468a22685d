// The one-pass gradients on wasm (src/wasm-kernels/gradient-routes.ts) against TF.js's own
// gradients on the cpu backend: the ReLU gradient (NaN, +-Infinity, -0 and zeros in x and dy),
// a per-pixel scale's gradient, the dense layer's a^T b, whole small-cnn steps; what falls
// back, what DCNET_WASM_WITHOUT leaves out, and that 100 steps leave no tensor or data behind.
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import type { Tensor } from '../src/tf.js';
import { initBackend } from '../src/backend.js';
import { onBackend } from '../src/eval/cross-backend.js';
import { buildModel } from '../models/architectures.js';
import { makeStep, randomBatch } from '../src/perf/steps.js';
import { leaveOut } from '../src/wasm-kernels/optional.js';
import { PIXEL_DOT } from '../src/wasm-kernels/pixel-dot.js';
import { RELU_GRAD } from '../src/wasm-kernels/relu-grad.js';
import { relativeError, seededUniform } from './helpers/reference.js';

beforeAll(async () => {
  await initBackend('wasm');
});

/** Values and the kernels that ran, of `body` on one backend. */
async function runOn(backend: string, body: () => Tensor | Tensor[]): Promise<{ values: Float32Array[]; kernels: string[] }> {
  return onBackend(backend, () => {
    const kernels: string[] = [];
    const engine = tf.engine() as unknown as { runKernel: (name: string, ...rest: unknown[]) => unknown };
    const runKernel = engine.runKernel;
    engine.runKernel = function (name: string, ...rest: unknown[]) {
      kernels.push(name);
      return runKernel.call(this, name, ...rest);
    };
    try {
      const values = tf.tidy(() => [body()].flat().map((t) => Float32Array.from(t.dataSync())));
      return { values, kernels };
    } finally {
      engine.runKernel = runKernel;
    }
  });
}

let seed = 7000;
function values(size: number, lo = -1, hi = 1): Float32Array {
  return seededUniform(size, seed++, lo, hi);
}

/** d/dx of sum(relu(x) * dy). */
function reluGradient(x: Float32Array, dy: Float32Array, shape: number[]) {
  return () => tf.grad((xx: Tensor) => tf.sum(tf.mul(tf.relu(xx), tf.tensor(dy, shape))))(tf.tensor(x, shape));
}

describe('the ReLU gradient in one pass', () => {
  const SHAPES = [[128, 14, 14, 64], [1, 28, 28, 32], [3, 5, 4], [2, 2]];
  for (const shape of SHAPES) {
    it(`[${shape}] equals cpu's dy * step(x) bit for bit`, async () => {
      const size = shape.reduce((a, b) => a * b, 1);
      const x = values(size);
      const dy = values(size);
      // ReLU zeros, -0, NaN and infinities in x; NaN and infinities in dy (dy * 0 is NaN).
      const special = [0, -0, NaN, Infinity, -Infinity, 1e-45, -1e-45];
      for (let i = 0; i < Math.min(size, 64); i++) x[i] = special[i % special.length]!;
      for (let i = 0; i < Math.min(size, 64); i += 3) dy[i] = [NaN, Infinity, -Infinity, -2][(i / 3) % 4]!;
      const wasm = await runOn('wasm', reluGradient(x, dy, shape));
      const cpu = await runOn('cpu', reluGradient(x, dy, shape));
      expect(wasm.kernels).toContain(RELU_GRAD);
      expect(wasm.kernels).not.toContain('Step');
      expect(cpu.kernels).toContain('Step');
      expect(wasm.values[0]).toEqual(cpu.values[0]);
    });
  }

  it('a size that is not a multiple of 4 takes TF.js gradient', async () => {
    const shape = [3, 5, 3];
    const x = values(45);
    const dy = values(45);
    const wasm = await runOn('wasm', reluGradient(x, dy, shape));
    expect(wasm.kernels).not.toContain(RELU_GRAD);
    expect(wasm.values[0]).toEqual((await runOn('cpu', reluGradient(x, dy, shape))).values[0]);
  });

  it('a second-order gradient through it matches cpu', async () => {
    const x = values(16);
    const v = values(16);
    // d/dy of <v, d/dx sum(relu(x) * y)> = v * step(x).
    const f = () =>
      tf.grad((y: Tensor) => tf.sum(tf.mul(tf.grad((xx: Tensor) => tf.sum(tf.mul(tf.relu(xx), y)))(tf.tensor(x, [4, 4])), tf.tensor(v, [4, 4]))))(
        tf.tensor(values(16), [4, 4]),
      );
    expect((await runOn('wasm', f)).values[0]).toEqual((await runOn('cpu', f)).values[0]);
  });
});

describe("a per-pixel scale's gradient in one pass", () => {
  // y = full * perPixel: d/d(perPixel) of sum(y * dy).
  function scaleGradients(full: Float32Array, perPixel: Float32Array, dy: Float32Array, shape: number[], perPixelFirst: boolean) {
    const pixelShape = [...shape.slice(0, -1), 1];
    return () => {
      const f = tf.tensor(full, shape);
      const s = tf.tensor(perPixel, pixelShape);
      const g = tf.tensor(dy, shape);
      const loss = (ff: Tensor, ss: Tensor) => tf.sum(tf.mul(perPixelFirst ? tf.mul(ss, ff) : tf.mul(ff, ss), g));
      return tf.grads(loss)([f, s]);
    };
  }
  const CASES: Array<{ shape: number[]; perPixelFirst: boolean }> = [
    { shape: [16, 28, 28, 32], perPixelFirst: false },
    { shape: [2, 14, 14, 64], perPixelFirst: true },
    { shape: [1, 3, 5, 4], perPixelFirst: false },
    { shape: [3, 12], perPixelFirst: true },
    { shape: [2, 3, 3, 8], perPixelFirst: false },
  ];
  for (const { shape, perPixelFirst } of CASES) {
    it(`[${shape}] x [${[...shape.slice(0, -1), 1]}]${perPixelFirst ? ' (per-pixel operand first)' : ''} matches cpu`, async () => {
      const size = shape.reduce((a, b) => a * b, 1);
      const pixels = size / shape[shape.length - 1]!;
      const [full, perPixel, dy] = [values(size), values(pixels), values(size)];
      const wasm = await runOn('wasm', scaleGradients(full, perPixel, dy, shape, perPixelFirst));
      const cpu = await runOn('cpu', scaleGradients(full, perPixel, dy, shape, perPixelFirst));
      expect(wasm.kernels).toContain(PIXEL_DOT);
      // One Sum is the loss's; TF.js's gradient adds one over the channels.
      const sums = (k: string[]) => k.filter((name) => name === 'Sum').length;
      expect([sums(wasm.kernels), sums(cpu.kernels)]).toEqual([1, 2]);
      for (let i = 0; i < 2; i++) expect(relativeError(wasm.values[i]!, cpu.values[i]!)).toBeLessThanOrEqual(1e-5);
    });
  }

  it("equals the backend's own Multiply and Sum to the bit (pixels in fours and not)", async () => {
    for (const shape of [[2, 5, 5, 32], [3, 4, 8], [1, 1, 12]]) {
      const size = shape.reduce((a, b) => a * b, 1);
      const pixels = size / shape[shape.length - 1]!;
      const [full, perPixel, dy] = [values(size, -3, 3), values(pixels), values(size, -3, 3)];
      const fused = await runOn('wasm', scaleGradients(full, perPixel, dy, shape, false));
      leaveOut(['pixelDot']);
      const own = await runOn('wasm', scaleGradients(full, perPixel, dy, shape, false)).finally(() => leaveOut([]));
      expect(fused.kernels).toContain(PIXEL_DOT);
      expect(own.kernels).not.toContain(PIXEL_DOT);
      expect(fused.values[1]).toEqual(own.values[1]);
    }
  });

  it('channels not in fours take TF.js gradient; NaN and Infinity propagate as on cpu', async () => {
    for (const shape of [[2, 3, 3, 3], [1, 2, 2, 4]]) {
      const size = shape.reduce((a, b) => a * b, 1);
      const pixels = size / shape[shape.length - 1]!;
      const [full, perPixel, dy] = [values(size), values(pixels), values(size)];
      full[1] = NaN;
      dy[6] = Infinity;
      const wasm = await runOn('wasm', scaleGradients(full, perPixel, dy, shape, false));
      const cpu = await runOn('cpu', scaleGradients(full, perPixel, dy, shape, false));
      expect(wasm.kernels.includes(PIXEL_DOT)).toBe(shape[3] === 4);
      expect(Array.from(wasm.values[1]!, Number.isNaN)).toEqual(Array.from(cpu.values[1]!, Number.isNaN));
      const finite = (a: Float32Array) => a.map((v) => (Number.isFinite(v) ? v : 0));
      expect(relativeError(finite(wasm.values[1]!), finite(cpu.values[1]!))).toBeLessThanOrEqual(1e-5);
    }
  });
});

describe('small-cnn steps with the one-pass gradients', () => {
  for (const operator of ['standard', 'tanh-cosine', 'linear-cosine']) {
    it(`${operator}: weight and input gradients match cpu (batch 3 and 1)`, async () => {
      for (const batch of [3, 1]) {
        const model = buildModel('small-cnn', { inputShape: [28, 28, 1], numClasses: 10, operator, seed: 3 });
        const data = randomBatch(batch, [28, 28, 1], 10, 5);
        // Pixels rounded to tenths: ties and zero ReLU inputs inside the pooling windows.
        const x = Float32Array.from(data.x.dataSync(), (v) => Math.round(v * 10) / 10 - 0.3);
        const y = data.y.dataSync() as Float32Array;
        tf.dispose([data.x, data.y]);
        const gradients = () => {
          const xs = tf.tensor4d(x, [batch, 28, 28, 1]);
          const ys = tf.tensor2d(y, [batch, 10]);
          const loss = (xx: Tensor) => tf.losses.softmaxCrossEntropy(ys, model.apply(xx, { training: true }) as Tensor) as tf.Scalar;
          const { grads } = tf.variableGrads(() => loss(xs));
          return [tf.grad(loss)(xs), ...model.trainableWeights.map((w) => grads[w.read().name]!)];
        };
        const wasm = await runOn('wasm', gradients);
        const cpu = await runOn('cpu', gradients);
        model.dispose();
        expect(wasm.kernels).toContain(RELU_GRAD);
        if (operator !== 'standard') expect(wasm.kernels).toContain(PIXEL_DOT);
        expect(wasm.values.length).toBe(cpu.values.length);
        wasm.values.forEach((g, i) => expect(relativeError(g, cpu.values[i]!), `gradient ${i}`).toBeLessThanOrEqual(1e-4));
      }
    });
  }

  it('100 training and input-gradient steps leave no tensor and no wasm data behind', async () => {
    await onBackend('wasm', () => {
      const backend = tf.backend() as unknown as { numDataIds(): number };
      for (const kind of ['train', 'inputGradient'] as const) {
        const model = buildModel('small-cnn', { inputShape: [28, 28, 1], numClasses: 10, operator: 'tanh-cosine', seed: 1 });
        const batch = randomBatch(4, [28, 28, 1], 10, 1);
        const { step, dispose } = makeStep(kind, model, batch);
        const once = () => {
          const t = step();
          t.dataSync();
          t.dispose();
        };
        once();
        const [tensors, data] = [tf.memory().numTensors, backend.numDataIds()];
        for (let i = 0; i < 100; i++) once();
        expect(tf.memory().numTensors, kind).toBe(tensors);
        expect(backend.numDataIds(), kind).toBe(data);
        dispose();
        tf.dispose([batch.x, batch.y]);
        model.dispose();
      }
    });
  });
});

describe('DCNET_WASM_WITHOUT', () => {
  const run = (value: string, script: string) =>
    spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, DCNET_WASM_WITHOUT: value }, encoding: 'utf8' });
  const probe = `
    import { tf } from './dist/src/tf.js';
    import { initBackend } from './dist/src/backend.js';
    await initBackend('wasm');
    const names = [];
    const run = tf.engine().runKernel.bind(tf.engine());
    tf.engine().runKernel = (name, ...rest) => (names.push(name), run(name, ...rest));
    const x = tf.randomUniform([2, 4, 4, 8], -1, 1, 'float32', 1);
    const s = tf.randomUniform([2, 4, 4, 1], -1, 1, 'float32', 2);
    tf.grads((a, b) => tf.sum(tf.relu(tf.mul(a, b))))([x, s]);
    console.log(JSON.stringify(names.filter((n) => n.startsWith('Dcnet'))));`;

  it('leaves out the kernels it names, and only those', () => {
    expect(JSON.parse(run('', probe).stdout)).toEqual(['DcnetReluGrad', 'DcnetPixelDot']);
    expect(JSON.parse(run('reluGrad', probe).stdout)).toEqual(['DcnetPixelDot']);
    expect(JSON.parse(run('pixelDot, reluGrad', probe).stdout)).toEqual([]);
  });

  it('an unknown name is refused with one line naming the valid ones', () => {
    const r = spawnSync(process.execPath, ['bin/dcnet.js', 'info', '--backend', 'wasm'], { env: { ...process.env, DCNET_WASM_WITHOUT: 'reluGrad,fast' }, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim()).toBe("dcnet: Invalid DCNET_WASM_WITHOUT entry 'fast'. Valid values (comma-separated): transposedProduct, reluGrad, pixelDot.");
  });
});
