// Kernels that replaced one of the wasm backend's own kernels compute the same floats bit for
// bit, so the committed models' results do not move: the direct convolution for 1-3 input
// channels (XNNPACK's indirect matrix product before), the single-channel convolution
// (XNNPACK's depthwise convolution before) against the backend's own kernel, and the
// single-channel input gradient against a float32 emulation, written here, of the
// patch-gradient scatter it replaced (each patch's products added onto the image, output
// pixels in raster order). The 2x2 max pooling is held to the cpu backend's bits (signed
// zeros and NaN windows included) and to XNNPACK's values; Tile to the backend's own Tile.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import type { Tensor } from '../src/tf.js';
import { initBackend } from '../src/backend.js';
import { builtInKernel } from '../src/wasm-kernels/wasm-backend.js';
import { seededUniform } from './helpers/reference.js';

type Shape4 = [number, number, number, number];
let seed = 7000;
const random = (shape: number[]) => tf.tensor(seededUniform(shape.reduce((a, b) => a * b, 1), seed++, -1, 1), shape);

/** The backend's own kernel, bypassing ours. */
function backendOwn(name: string, inputs: Record<string, Tensor>, attrs: object): Tensor {
  const info = builtInKernel(name)({ inputs, backend: tf.backend(), attrs } as never) as tf.TensorInfo;
  return tf.engine().makeTensorFromTensorInfo(info);
}

function onCpu<T>(body: () => T): Promise<T> {
  return (async () => {
    await tf.setBackend('cpu');
    try {
      return body();
    } finally {
      await tf.setBackend('wasm');
    }
  })();
}

/** Bits of two float arrays compared: how many of the values differ (NaN-aware). */
function differingBits(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let n = 0;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) n++;
  return n;
}

function convAgainstBackend(x: Shape4, k: [number, number], cout: number, stride: number, pad: 'same' | 'valid' | number[][]) {
  const xs = random(x);
  const w = random([k[0], k[1], x[3], cout]);
  const attrs = { strides: stride, pad, dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined };
  const ours = tf.engine().runKernel('Conv2D', { x: xs, filter: w }, attrs as never) as Tensor;
  const own = backendOwn('Conv2D', { x: xs, filter: w }, attrs);
  expect(ours.shape).toEqual(own.shape);
  const diff = differingBits(ours.dataSync() as Float32Array, own.dataSync() as Float32Array);
  tf.dispose([xs, w, ours, own]);
  return diff;
}

/**
 * dx of a one-channel convolution as the patch-gradient scatter computed it: for each output
 * pixel in raster order, for each tap in raster order, dx[tap's pixel] += fround(dy * w).
 */
function scatterReference(dy: Float32Array, w: Float32Array, x: Shape4, out: [number, number], k: [number, number], padTop: number, padLeft: number): Float32Array {
  const [n, h, wd] = x;
  const dx = new Float32Array(n * h * wd);
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < out[0]; p++) {
      for (let q = 0; q < out[1]; q++) {
        for (let i = 0; i < k[0]; i++) {
          for (let j = 0; j < k[1]; j++) {
            const r = p - padTop + i;
            const c = q - padLeft + j;
            if (r < 0 || r >= h || c < 0 || c >= wd) continue;
            const at = (b * h + r) * wd + c;
            dx[at] = Math.fround(dx[at]! + Math.fround(dy[(b * out[0] + p) * out[1] + q]! * w[i * k[1] + j]!));
          }
        }
      }
    }
  }
  return dx;
}

describe('replaced wasm kernels give the floats of the kernels they replaced', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  const DIRECT: Array<[Shape4, [number, number], number, number, 'same' | 'valid' | number[][]]> = [
    [[2, 28, 28, 1], [3, 3], 32, 1, 'same'], // small-cnn's first layer
    [[3, 9, 10, 2], [3, 3], 8, 1, 'valid'],
    [[2, 11, 9, 3], [3, 3], 16, 2, 'same'],
    [[2, 8, 8, 3], [5, 5], 12, 1, 'same'],
    [[1, 7, 6, 1], [2, 3], 4, 1, [[0, 0], [1, 0], [2, 1], [0, 0]]],
  ];
  for (const [x, k, cout, stride, pad] of DIRECT) {
    it(`Conv2D x [${x}] k ${k.join('x')} -> ${cout}, stride ${stride}, pad ${JSON.stringify(pad)}: XNNPACK's floats`, () => {
      expect(convAgainstBackend(x, k, cout, stride, pad)).toBe(0);
    });
  }

  for (const size of [1, 2, 3, 5]) {
    for (const pad of ['same', 'valid'] as const) {
      it(`one-channel Conv2D ${size}x${size}, pad ${pad}: XNNPACK's floats`, () => {
        expect(convAgainstBackend([3, 13, 12, 1], [size, size], 1, 1, pad)).toBe(0);
      });
    }
  }
  it('one-channel Conv2D on small-cnn\'s inputs (the patch norm\'s box filter of ones): XNNPACK\'s floats', () => {
    const energy = tf.square(random([4, 28, 28, 1]));
    const ones = tf.ones([3, 3, 1, 1]);
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined };
    const ours = tf.engine().runKernel('Conv2D', { x: energy, filter: ones }, attrs as never) as Tensor;
    const own = backendOwn('Conv2D', { x: energy, filter: ones }, attrs);
    expect(differingBits(ours.dataSync() as Float32Array, own.dataSync() as Float32Array)).toBe(0);
    tf.dispose([energy, ones, ours, own]);
  });
  it('one-channel Conv2D of other sizes stays with XNNPACK (its order differs there)', () => {
    expect(convAgainstBackend([2, 9, 11, 1], [2, 3], 1, 1, 'same')).toBe(0);
    expect(convAgainstBackend([2, 9, 11, 1], [4, 4], 1, 1, 'valid')).toBe(0);
  });

  const GRADIENT: Array<[Shape4, [number, number], 'same' | 'valid' | number[][]]> = [
    [[2, 28, 28, 1], [3, 3], 'same'],
    [[2, 14, 14, 1], [3, 3], 'same'],
    [[3, 9, 7, 1], [3, 3], 'valid'],
    [[1, 6, 5, 1], [2, 3], 'same'],
    [[2, 8, 9, 1], [5, 5], 'same'],
    [[1, 8, 9, 1], [3, 2], [[0, 0], [0, 2], [1, 1], [0, 0]]],
  ];
  for (const [x, k, pad] of GRADIENT) {
    it(`one-channel Conv2DBackpropInput x [${x}] k ${k.join('x')}, pad ${JSON.stringify(pad)}: the scatter's floats`, () => {
      const info = tf.backend_util.computeConv2DInfo(x, [k[0], k[1], 1, 1], 1, 1, pad as 'same');
      const dy = random([x[0], info.outHeight, info.outWidth, 1]);
      const w = random([k[0], k[1], 1, 1]);
      const attrs = { strides: 1, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: x };
      const ours = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, attrs as never) as Tensor;
      const want = scatterReference(dy.dataSync() as Float32Array, w.dataSync() as Float32Array, x, [info.outHeight, info.outWidth], k, info.padInfo.top, info.padInfo.left);
      expect(ours.shape).toEqual(x);
      expect(differingBits(ours.dataSync() as Float32Array, want)).toBe(0);
      tf.dispose([dy, w, ours]);
    });
  }

  const POOL = { filterSize: 2, strides: 2, pad: 'valid', dimRoundingMode: undefined };
  it('MaxPool 2x2 on windows of signed zeros, infinities and NaN: the cpu backend\'s bits', async () => {
    // Every window of four values drawn from these, one per channel lane.
    const values = [-0, 0, 1, -1, Infinity, -Infinity, NaN];
    const windows: number[][] = [];
    for (let k = 0; k < values.length ** 4; k++) windows.push([0, 1, 2, 3].map((e) => values[Math.floor(k / values.length ** e) % values.length]!));
    const channels = 4 * Math.ceil(windows.length / 4);
    const data = new Float32Array(4 * channels);
    windows.forEach((w, c) => w.forEach((v, e) => (data[e * channels + c] = v)));
    const x = tf.tensor(data, [1, 2, 2, channels]);
    const ours = tf.engine().runKernel('MaxPool', { x }, POOL as never) as Tensor;
    const got = ours.dataSync() as Float32Array;
    const want = await onCpu(() => tf.maxPool(tf.tensor(data, [1, 2, 2, channels]), 2, 2, 'valid').dataSync() as Float32Array);
    expect(differingBits(got, want)).toBe(0);
    tf.dispose([x, ours]);
  });
  for (const shape of [[2, 28, 28, 32], [3, 14, 15, 64], [1, 7, 6, 4]] as Shape4[]) {
    it(`MaxPool 2x2 x [${shape}]: XNNPACK's values`, () => {
      const x = random(shape);
      const ours = tf.engine().runKernel('MaxPool', { x }, POOL as never) as Tensor;
      const own = backendOwn('MaxPool', { x }, POOL);
      expect(ours.shape).toEqual(own.shape);
      expect(differingBits(ours.dataSync() as Float32Array, own.dataSync() as Float32Array)).toBe(0);
      tf.dispose([x, ours, own]);
    });
  }

  // Tile (tile.ts): a copy, so the backend's bits, NaN payloads and signed zeros included; ranks
  // 1-5, repetitions of 1 (axes copied as they are), zero-size inputs and outputs, and the
  // int32 input that the backend's kernel keeps.
  const SPECIAL = [NaN, -0, 0, Infinity, -Infinity, 1.5e-45, -3.4e38];
  const TILES: Array<[number[], number[]]> = [
    [[1, 1, 1, 96], [16, 32, 32, 1]],
    [[3], [4]],
    [[2, 3], [3, 2]],
    [[2, 1, 3], [1, 4, 2]],
    [[2, 3, 4], [1, 1, 1]],
    [[2, 3, 4, 5, 2], [2, 1, 3, 1, 2]],
    [[2, 3], [0, 2]],
    [[0, 3], [2, 2]],
  ];
  for (const [shape, reps] of TILES) {
    it(`Tile [${shape}] x [${reps}]: the backend's bits, nothing left on the heap`, () => {
      const size = shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from(seededUniform(size, seed++, -1, 1), (v, i) => (i % 5 === 0 ? SPECIAL[i % SPECIAL.length]! : v));
      const x = tf.tensor(data, shape);
      const backend = tf.backend() as unknown as { numDataIds(): number };
      const before = backend.numDataIds();
      const ours = tf.engine().runKernel('Tile', { x }, { reps } as never) as Tensor;
      expect(backend.numDataIds(), 'only the output is new').toBe(before + 1);
      const own = backendOwn('Tile', { x }, { reps });
      expect(ours.shape).toEqual(own.shape);
      expect(differingBits(ours.dataSync() as Float32Array, own.dataSync() as Float32Array)).toBe(0);
      tf.dispose([x, ours, own]);
    });
  }
  it('Tile of int32 values: the backend\'s own kernel', () => {
    const x = tf.tensor([1, -2, 3, 2147483647], [2, 2], 'int32');
    const t = tf.tile(x, [2, 3]);
    expect(t.dtype).toBe('int32');
    expect(Array.from(t.dataSync())).toEqual([1, -2, 1, -2, 1, -2, 3, 2147483647, 3, 2147483647, 3, 2147483647, 1, -2, 1, -2, 1, -2, 3, 2147483647, 3, 2147483647, 3, 2147483647]);
    tf.dispose([x, t]);
  });
});
