// The opt-in Winograd F(2x2, 3x3) convolution (src/wasm-kernels/winograd-conv2d.ts, on with
// DCNET_WASM_WITH=winograd): forward and input gradient against a float64 convolution written
// here in plain loops and against the cpu backend; the shapes it leaves to the default kernels
// give their bits; all-zero inputs give exact zeros; whole small-cnn steps; no tensor left
// behind; the setting's errors and how the backend reports it.
import { spawnSync } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import type { Tensor } from '../src/tf.js';
import { backendLabel, initBackend } from '../src/backend.js';
import { onBackend } from '../src/eval/cross-backend.js';
import { evaluate } from '../src/eval/index.js';
import { buildModel } from '../models/architectures.js';
import { makeStep, randomBatch } from '../src/perf/steps.js';
import { turnOn } from '../src/wasm-kernels/optional.js';
import { relativeError, seededUniform } from './helpers/reference.js';

beforeAll(async () => {
  await initBackend('wasm');
});
afterEach(() => turnOn([]));

interface Case {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  padding: 'same' | 'valid';
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** TF.js's padding: the total split with the smaller half on top / left. */
function padBefore(size: number, k: number, padding: 'same' | 'valid'): [number, number] {
  if (padding === 'valid') return [size - k + 1, 0];
  return [size, Math.floor(Math.max(k - 1, 0) / 2)];
}

/**
 * Every tap of every output pixel (stride 1) that lands inside the image: visit(output pixel,
 * filter tap, input pixel), each a flat index without channels.
 */
function eachTap(c: Case, visit: (out: number, tap: number, at: number) => void): void {
  const [n, h, wd] = c.x;
  const [kh, kw] = c.filter;
  const [oh, top] = padBefore(h, kh, c.padding);
  const [ow, left] = padBefore(wd, kw, c.padding);
  for (let b = 0; b < n; b++)
    for (let p = 0; p < oh; p++)
      for (let q = 0; q < ow; q++)
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const r = p + i - top;
            const col = q + j - left;
            if (r >= 0 && r < h && col >= 0 && col < wd) visit((b * oh + p) * ow + q, i * kw + j, (b * h + r) * wd + col);
          }
}

/** y = x (*) w in float64. */
function referenceForward(x: Float32Array, w: Float32Array, c: Case): Float64Array {
  const [ci, co] = [c.x[3], c.filter[3]];
  const y = new Float64Array(size(outShape(c)));
  eachTap(c, (out, tap, at) => {
    for (let o = 0; o < co; o++) for (let k = 0; k < ci; k++) y[out * co + o] += x[at * ci + k]! * w[(tap * ci + k) * co + o]!;
  });
  return y;
}

/** dL/dx of sum(y * dy) in float64: each output pixel's dy spread back over its taps. */
function referenceInputGradient(dy: Float32Array, w: Float32Array, c: Case): Float64Array {
  const [ci, co] = [c.x[3], c.filter[3]];
  const dx = new Float64Array(size(c.x));
  eachTap(c, (out, tap, at) => {
    for (let k = 0; k < ci; k++) for (let o = 0; o < co; o++) dx[at * ci + k] += dy[out * co + o]! * w[(tap * ci + k) * co + o]!;
  });
  return dx;
}

function outShape(c: Case): number[] {
  return [c.x[0], padBefore(c.x[1], c.filter[0], c.padding)[0], padBefore(c.x[2], c.filter[1], c.padding)[0], c.filter[3]];
}

/** Forward and input gradient of one case on one backend, with or without the Winograd kernel. */
async function convolve(backend: string, winograd: boolean, x: Float32Array, w: Float32Array, dy: Float32Array, c: Case) {
  turnOn(winograd ? ['winograd'] : []);
  try {
    return await onBackend(backend, () =>
      tf.tidy(() => {
        const y = tf.conv2d(tf.tensor4d(x, c.x), tf.tensor4d(w, c.filter), 1, c.padding);
        const dx = tf.conv2dTranspose(tf.tensor4d(dy, outShape(c) as never), tf.tensor4d(w, c.filter), c.x, 1, c.padding);
        return { y: Float32Array.from(y.dataSync()), dx: Float32Array.from(dx.dataSync()) };
      }),
    );
  } finally {
    turnOn([]);
  }
}

let seed = 9100;

describe('Winograd F(2x2, 3x3) convolution (DCNET_WASM_WITH=winograd)', () => {
  const APPLIES: Case[] = [
    // small-cnn's second layer at batch 5: 245 tiles, chunks of 32 and an odd last chunk
    { x: [5, 14, 14, 32], filter: [3, 3, 32, 64], padding: 'same' },
    { x: [1, 6, 8, 8], filter: [3, 3, 8, 4], padding: 'same' },
    // valid: 8 x 10 outputs; the input gradient pads dy by 2
    { x: [2, 10, 12, 8], filter: [3, 3, 8, 4], padding: 'valid' },
    // channels not in 16s: register blocks of 8 and 4 output channels
    { x: [3, 4, 4, 12], filter: [3, 3, 12, 24], padding: 'same' },
  ];
  for (const c of APPLIES) {
    it(`x [${c.x}], filter [${c.filter}], ${c.padding}: float64 and cpu within float32 rounding, other bits than the default kernel`, async () => {
      const x = seededUniform(size(c.x), seed++);
      const w = seededUniform(size(c.filter), seed++, -0.2, 0.2);
      const dy = seededUniform(size(outShape(c)), seed++);
      const wanted = { y: referenceForward(x, w, c), dx: referenceInputGradient(dy, w, c) };
      const winograd = await convolve('wasm', true, x, w, dy, c);
      const cpu = await convolve('cpu', false, x, w, dy, c);
      const direct = await convolve('wasm', false, x, w, dy, c);
      for (const k of ['y', 'dx'] as const) {
        // The default kernels' own error against float64, for scale: Winograd within 4x of it.
        const own = relativeError(direct[k], wanted[k]);
        expect(relativeError(winograd[k], wanted[k])).toBeLessThan(Math.max(4 * own, 1e-6));
        expect(relativeError(winograd[k], cpu[k])).toBeLessThan(1e-5);
        // It ran: a different order of additions leaves other last bits somewhere.
        expect(Buffer.from(winograd[k].buffer).equals(Buffer.from(direct[k].buffer))).toBe(false);
      }
    });
  }

  const LEFT_TO_DEFAULT: Array<Case & { why: string }> = [
    { why: 'odd output size', x: [2, 9, 9, 8], filter: [3, 3, 8, 8], padding: 'same' },
    { why: 'input channels not in fours', x: [2, 8, 8, 6], filter: [3, 3, 6, 8], padding: 'same' },
    { why: '5x5 filter', x: [2, 8, 8, 8], filter: [5, 5, 8, 8], padding: 'same' },
    { why: 'one input channel (a first layer)', x: [2, 8, 8, 1], filter: [3, 3, 1, 8], padding: 'same' },
  ];
  for (const c of LEFT_TO_DEFAULT) {
    it(`${c.why}: the default kernels' bits`, async () => {
      const x = seededUniform(size(c.x), seed++);
      const w = seededUniform(size(c.filter), seed++, -0.2, 0.2);
      const dy = seededUniform(size(outShape(c)), seed++);
      const winograd = await convolve('wasm', true, x, w, dy, c);
      const direct = await convolve('wasm', false, x, w, dy, c);
      expect(Buffer.from(winograd.y.buffer).equals(Buffer.from(direct.y.buffer))).toBe(true);
      expect(Buffer.from(winograd.dx.buffer).equals(Buffer.from(direct.dx.buffer))).toBe(true);
    });
  }

  it('images that are all zeros convolve to exact zeros, as on cpu', async () => {
    const c: Case = { x: [4, 8, 8, 8], filter: [3, 3, 8, 16], padding: 'same' };
    const x = seededUniform(size(c.x), seed++);
    x.fill(0, 0, 2 * 8 * 8 * 8); // the first two images
    const dy = seededUniform(size(outShape(c)), seed++);
    dy.fill(0, 8 * 8 * 16); // all but the first image
    const w = seededUniform(size(c.filter), seed++, -0.2, 0.2);
    const winograd = await convolve('wasm', true, x, w, dy, c);
    expect(winograd.y.subarray(0, 2 * 8 * 8 * 16).every((v) => v === 0)).toBe(true);
    expect(winograd.dx.subarray(8 * 8 * 8).every((v) => v === 0)).toBe(true);
  });

  it('NaN in a tile reaches the outputs of that tile (and no other image)', async () => {
    const c: Case = { x: [2, 8, 8, 4], filter: [3, 3, 4, 4], padding: 'same' };
    const x = seededUniform(size(c.x), seed++);
    x[0] = NaN; // image 0, pixel (0, 0)
    const w = seededUniform(size(c.filter), seed++, -0.2, 0.2);
    const dy = seededUniform(size(outShape(c)), seed++);
    const { y } = await convolve('wasm', true, x, w, dy, c);
    expect(Number.isNaN(y[0])).toBe(true);
    expect(y.subarray(8 * 8 * 4).every(Number.isFinite)).toBe(true);
  });

  for (const operator of ['standard', 'tanh-cosine']) {
    it(`small-cnn ${operator}: input-gradient and training steps within float32 rounding of cpu; 20 steps leave no tensor behind`, async () => {
      const run = (backend: string, kind: 'inputGradient' | 'train') =>
        onBackend(backend, () => {
          const model = buildModel('small-cnn', { inputShape: [28, 28, 1], numClasses: 10, operator, seed: 3 });
          const batch = randomBatch(8, [28, 28, 1], 10, 3);
          const { step, dispose } = makeStep(kind, model, batch);
          try {
            const out = step();
            const values = Float32Array.from(out.dataSync());
            out.dispose();
            return values;
          } finally {
            dispose();
            tf.dispose([batch.x, batch.y]);
            model.dispose();
          }
        });
      turnOn(['winograd']);
      for (const kind of ['inputGradient', 'train'] as const) {
        const got = await run('wasm', kind);
        const want = await run('cpu', kind);
        expect(relativeError(got, want)).toBeLessThan(1e-4);
      }
      const model = buildModel('small-cnn', { inputShape: [28, 28, 1], numClasses: 10, operator, seed: 3 });
      const batch = randomBatch(8, [28, 28, 1], 10, 3);
      const { step, dispose } = makeStep('inputGradient', model, batch);
      const once = () => (step() as Tensor).dispose();
      once();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 20; i++) once();
      expect(tf.memory().numTensors).toBe(before);
      dispose();
      tf.dispose([batch.x, batch.y]);
      model.dispose();
    });
  }
});

describe('DCNET_WASM_WITH', () => {
  const info = (value: string) =>
    spawnSync(process.execPath, ['bin/dcnet.js', 'info', '--backend', 'wasm'], { env: { ...process.env, DCNET_WASM_WITH: value }, encoding: 'utf8' });

  it('an unknown name is refused before any work, with the valid ones', () => {
    const r = info('winograd,fft');
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim()).toBe("dcnet: Invalid DCNET_WASM_WITH entry 'fft'. Valid values (comma-separated): winograd.");
  });

  it('evaluation results (and their checkpoints) record the backend with the opt-in kernels that ran', async () => {
    const logits = (x: Tensor) => tf.tidy(() => tf.concat([tf.reshape(x, [x.shape[0]!, 1]), tf.neg(tf.reshape(x, [x.shape[0]!, 1]))], 1) as tf.Tensor2D);
    const run = () => evaluate({ logits, images: new Float32Array([0.2, 0.8]), labels: new Int32Array([0, 1]), shape: [1, 1, 1], attacks: [{ name: 'fgsm', epsilons: [0.1] }], checks: false });
    turnOn(['winograd']);
    expect((await run()).backend).toBe('wasm+winograd');
    turnOn([]);
    expect((await run()).backend).toBe('wasm');
  });

  it('the backend says it runs, and results record it in their backend label', () => {
    const r = info('winograd');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('opt-in winograd (DCNET_WASM_WITH; last bits differ from the default kernels)');
    expect(backendLabel({ name: 'wasm', optInKernels: ['winograd'] })).toBe('wasm+winograd');
    expect(backendLabel({ name: 'wasm', optInKernels: [] })).toBe('wasm');
  });
});
