// Every kernel of src/wasm-kernels against the cpu backend's kernel of the same name, on
// random inputs: strides 1 and 2, same/valid/explicit padding, odd sizes, batch 1 and more.
// Also: intermediates are freed (the wasm backend holds no extra data after a call).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import { currentBackend, initBackend } from '../src/backend.js';
import { WASM_KERNELS } from '../src/wasm-kernels/index.js';
import { relativeError, seededUniform } from './helpers/reference.js';

const REL_TOL = 1e-4;

type Shape4 = [number, number, number, number];
interface Call {
  kernel: string;
  inputs: Record<string, { shape: number[]; data: Float32Array; dtype?: 'float32' | 'int32' | 'bool' }>;
  attrs: Record<string, unknown>;
}

/** Runs one kernel on a backend, returning its output values (nothing kept on the backend). */
async function runOn(backend: string, call: Call): Promise<{ shape: number[]; data: Float32Array }> {
  await tf.setBackend(backend);
  const inputs = Object.fromEntries(
    Object.entries(call.inputs).map(([k, v]) => [k, tf.tensor(v.dtype === undefined ? v.data : Array.from(v.data), v.shape, v.dtype)]),
  );
  const out = tf.engine().runKernel(call.kernel, inputs, call.attrs as never) as tf.Tensor;
  const result = { shape: out.shape, data: Float32Array.from(out.dataSync()) };
  tf.dispose([out, ...Object.values(inputs)]);
  return result;
}

async function expectMatchesCpu(call: Call): Promise<void> {
  const wasmBackend = tf.findBackend('wasm') as unknown as { numDataIds(): number };
  const before = wasmBackend.numDataIds();
  const got = await runOn('wasm', call);
  expect(wasmBackend.numDataIds(), 'wasm data left after the kernel').toBe(before);
  const want = await runOn('cpu', call);
  await tf.setBackend('wasm');
  expect(got.shape).toEqual(want.shape);
  expect(relativeError(got.data, want.data)).toBeLessThanOrEqual(REL_TOL);
}

let seed = 1000;
function random(shape: number[], lo = -1, hi = 1) {
  const size = shape.reduce((a, b) => a * b, 1);
  return { shape, data: new Float32Array(seededUniform(size, seed++, lo, hi)) };
}

/** Output size of a convolution/pool (TF.js's rule) for 'same' / 'valid' / explicit pads. */
function outShape(x: Shape4, k: [number, number], s: number, pad: unknown, channels: number): Shape4 {
  const info = tf.backend_util.computeConv2DInfo(x, [k[0], k[1], x[3], channels], s, 1, pad as 'same');
  return info.outShape as Shape4;
}

const CONV_CASES: Array<{ x: Shape4; k: [number, number]; cout: number; stride: number; pad: unknown }> = [];
for (const stride of [1, 2]) {
  for (const pad of ['same', 'valid']) {
    CONV_CASES.push({ x: [1, 7, 5, 3], k: [3, 3], cout: 4, stride, pad });
    CONV_CASES.push({ x: [3, 9, 8, 2], k: [3, 3], cout: 5, stride, pad });
    CONV_CASES.push({ x: [2, 6, 7, 1], k: [2, 3], cout: 3, stride, pad });
    CONV_CASES.push({ x: [2, 11, 11, 4], k: [5, 5], cout: 2, stride, pad });
    CONV_CASES.push({ x: [2, 5, 5, 3], k: [1, 1], cout: 4, stride, pad });
    // More than 4 input channels: dW by convolution instead of the patch matrix.
    CONV_CASES.push({ x: [2, 7, 6, 6], k: [3, 3], cout: 3, stride, pad });
    CONV_CASES.push({ x: [1, 9, 9, 5], k: [2, 3], cout: 4, stride, pad });
  }
}
// The reference network's layers, and explicit (asymmetric) padding.
CONV_CASES.push({ x: [2, 28, 28, 1], k: [3, 3], cout: 32, stride: 1, pad: 'same' });
CONV_CASES.push({ x: [2, 14, 14, 32], k: [3, 3], cout: 64, stride: 1, pad: 'same' });
CONV_CASES.push({ x: [2, 8, 9, 2], k: [3, 3], cout: 3, stride: 2, pad: [[0, 0], [2, 0], [1, 3], [0, 0]] });
CONV_CASES.push({ x: [1, 8, 9, 2], k: [3, 2], cout: 3, stride: 1, pad: [[0, 0], [0, 2], [3, 1], [0, 0]] });
CONV_CASES.push({ x: [2, 8, 9, 7], k: [3, 3], cout: 3, stride: 2, pad: [[0, 0], [2, 0], [1, 3], [0, 0]] });
// dW at stride 1 with more than 4 channels swaps roles when the padding fits the filter...
CONV_CASES.push({ x: [2, 8, 9, 6], k: [3, 2], cout: 3, stride: 1, pad: [[0, 0], [0, 2], [1, 0], [0, 0]] });
// Output channels in fours: dW by the generated direct kernel (odd and even input channels).
CONV_CASES.push({ x: [2, 9, 8, 3], k: [3, 3], cout: 8, stride: 2, pad: 'same' });
CONV_CASES.push({ x: [1, 7, 6, 6], k: [5, 3], cout: 12, stride: 1, pad: 'valid' });
CONV_CASES.push({ x: [2, 8, 9, 2], k: [3, 3], cout: 16, stride: 2, pad: [[0, 0], [2, 0], [1, 3], [0, 0]] });
CONV_CASES.push({ x: [3, 5, 4, 7], k: [2, 2], cout: 40, stride: 1, pad: 'same' });
// One input and one output channel (the decoupled operators' patch norms): the generated
// single-channel kernels at stride 1.
CONV_CASES.push({ x: [2, 9, 7, 1], k: [3, 3], cout: 1, stride: 1, pad: 'same' });
CONV_CASES.push({ x: [2, 9, 7, 1], k: [3, 3], cout: 1, stride: 1, pad: 'valid' });
CONV_CASES.push({ x: [1, 8, 11, 1], k: [5, 5], cout: 1, stride: 1, pad: 'same' });
CONV_CASES.push({ x: [2, 6, 9, 1], k: [2, 3], cout: 1, stride: 1, pad: [[0, 0], [1, 0], [2, 0], [0, 0]] });
// Forward and dX by the generated direct convolution: outputs in fours (any input channels).
CONV_CASES.push({ x: [2, 9, 8, 4], k: [3, 3], cout: 8, stride: 1, pad: 'same' });
CONV_CASES.push({ x: [3, 7, 9, 8], k: [3, 3], cout: 12, stride: 2, pad: 'same' });
CONV_CASES.push({ x: [1, 10, 7, 12], k: [2, 4], cout: 4, stride: 2, pad: 'valid' });
CONV_CASES.push({ x: [2, 6, 6, 20], k: [1, 1], cout: 24, stride: 1, pad: 'valid' });
CONV_CASES.push({ x: [2, 8, 9, 8], k: [3, 3], cout: 16, stride: 2, pad: [[0, 0], [2, 0], [1, 3], [0, 0]] });
// dX of few input channels at stride 1 with outputs in fours: the generated direct kernel.
CONV_CASES.push({ x: [2, 9, 8, 2], k: [3, 2], cout: 8, stride: 1, pad: [[0, 0], [0, 2], [3, 1], [0, 0]] });
CONV_CASES.push({ x: [1, 6, 7, 3], k: [5, 5], cout: 12, stride: 1, pad: 'same' });
CONV_CASES.push({ x: [3, 4, 9, 4], k: [3, 3], cout: 16, stride: 1, pad: 'valid' });
// ...and convolves as at stride 2 when it does not.
CONV_CASES.push({ x: [1, 8, 9, 6], k: [3, 2], cout: 3, stride: 1, pad: [[0, 0], [3, 0], [0, 2], [0, 0]] });

const POOL_CASES: Array<{ x: Shape4; k: [number, number]; stride: number; pad: string }> = [
  { x: [2, 28, 28, 5], k: [2, 2], stride: 2, pad: 'valid' },
  { x: [1, 7, 9, 3], k: [2, 2], stride: 2, pad: 'same' },
  { x: [3, 7, 9, 3], k: [2, 2], stride: 2, pad: 'valid' },
  { x: [2, 9, 7, 2], k: [3, 3], stride: 2, pad: 'same' },
  { x: [2, 9, 7, 2], k: [3, 3], stride: 2, pad: 'valid' },
  { x: [1, 6, 5, 4], k: [3, 2], stride: 1, pad: 'same' },
  { x: [2, 8, 6, 3], k: [2, 2], stride: 2, pad: 'same' }, // even sizes: same = valid, whole windows
  { x: [1, 2, 2, 1], k: [2, 2], stride: 2, pad: 'valid' },
  { x: [2, 6, 5, 4], k: [3, 3], stride: 1, pad: 'valid' },
  // Whole 2x2 windows with channels in fours: the generated wasm kernel.
  { x: [2, 28, 28, 8], k: [2, 2], stride: 2, pad: 'valid' },
  { x: [3, 7, 9, 4], k: [2, 2], stride: 2, pad: 'valid' },
  { x: [1, 5, 5, 12], k: [2, 2], stride: 2, pad: 'valid' },
  { x: [2, 8, 6, 16], k: [2, 2], stride: 2, pad: 'same' },
];

describe('wasm kernels match the cpu backend', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('wasm');
  });

  it('registers the kernels on the wasm backend', () => {
    expect(currentBackend().fastKernels).toBe(true);
    expect(currentBackend().description).toContain('fast training kernels');
    for (const { kernelName } of WASM_KERNELS) {
      expect(tf.getKernel(kernelName, 'wasm')?.kernelFunc, kernelName).toBe(
        WASM_KERNELS.find((k) => k.kernelName === kernelName)!.kernelFunc,
      );
    }
  });

  for (const c of CONV_CASES) {
    const name = `x [${c.x}] k ${c.k.join('x')} -> ${c.cout}, stride ${c.stride}, pad ${JSON.stringify(c.pad)}`;
    const dyShape = outShape(c.x, c.k, c.stride, c.pad, c.cout);
    const common = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined };

    it(`Conv2DBackpropFilter ${name}`, async () => {
      await expectMatchesCpu({
        kernel: 'Conv2DBackpropFilter',
        inputs: { x: random(c.x), dy: random(dyShape) },
        attrs: { ...common, filterShape: [c.k[0], c.k[1], c.x[3], c.cout] },
      });
    });

    it(`Conv2D ${name}`, async () => {
      await expectMatchesCpu({
        kernel: 'Conv2D',
        inputs: { x: random(c.x), filter: random([c.k[0], c.k[1], c.x[3], c.cout]) },
        attrs: { ...common, dilations: 1 },
      });
    });

    it(`Conv2DBackpropInput ${name}`, async () => {
      await expectMatchesCpu({
        kernel: 'Conv2DBackpropInput',
        inputs: { dy: random(dyShape), filter: random([c.k[0], c.k[1], c.x[3], c.cout]) },
        attrs: { ...common, inputShape: c.x },
      });
    });
  }

  for (const c of POOL_CASES) {
    const name = `x [${c.x}] window ${c.k.join('x')}, stride ${c.stride}, pad ${c.pad}`;
    const attrs = { filterSize: c.k, strides: c.stride, pad: c.pad, dimRoundingMode: undefined };
    const dyShape = outShape(c.x, c.k, c.stride, c.pad, c.x[3]);

    it(`MaxPoolGrad ${name}`, async () => {
      const x = random(c.x);
      await expectMatchesCpu({
        kernel: 'MaxPoolGrad',
        inputs: { dy: random(dyShape), input: x, output: random(dyShape) },
        attrs,
      });
    });

    it(`MaxPoolGrad ${name}, tied maxima (ReLU zeros, repeated values)`, async () => {
      // Values from {-1, 0, 0, 0, 1, 2}: many windows hold several equal maxima.
      const x = random(c.x);
      x.data = x.data.map((v) => Math.max(0, Math.round(v * 2.5)));
      await expectMatchesCpu({
        kernel: 'MaxPoolGrad',
        inputs: { dy: random(dyShape), input: x, output: random(dyShape) },
        attrs,
      });
    });
  }

  const MATMUL_CASES: Array<{ a: number[]; b: number[]; transposeA: boolean; transposeB: boolean }> = [
    { a: [1, 5, 7], b: [1, 7, 3], transposeA: false, transposeB: false },
    { a: [1, 7, 5], b: [1, 7, 3], transposeA: true, transposeB: false },
    { a: [1, 5, 7], b: [1, 3, 7], transposeA: false, transposeB: true },
    { a: [3, 7, 5], b: [3, 3, 7], transposeA: true, transposeB: true },
    { a: [2, 1, 6, 4], b: [1, 3, 6, 5], transposeA: true, transposeB: false }, // broadcast batch
    { a: [1, 128, 98], b: [1, 128, 10], transposeA: true, transposeB: false }, // dense dW
    { a: [1, 2, 3], b: [1, 50, 3], transposeA: false, transposeB: true }, // computed as (b a^T)^T
    { a: [2, 3, 5], b: [1, 9, 3], transposeA: true, transposeB: true }, // swapped, broadcast
    // a^T b with columns up to 12 and rows in fours: the generated kernel (transposed-product.ts).
    { a: [1, 128, 3136], b: [1, 128, 10], transposeA: true, transposeB: false }, // small-cnn's dense dW
    { a: [1, 1, 4], b: [1, 1, 1], transposeA: true, transposeB: false },
    { a: [3, 7, 8], b: [3, 7, 12], transposeA: true, transposeB: false },
    { a: [2, 5, 12], b: [2, 5, 3], transposeA: true, transposeB: false },
    { a: [4, 9, 20], b: [4, 9, 13], transposeA: true, transposeB: false }, // 13 columns: transposes
    { a: [1, 9, 20], b: [2, 9, 5], transposeA: true, transposeB: false }, // broadcast batch: transposes
  ];
  for (const c of MATMUL_CASES) {
    it(`BatchMatMul a [${c.a}] b [${c.b}] transposeA ${c.transposeA} transposeB ${c.transposeB}`, async () => {
      await expectMatchesCpu({
        kernel: 'BatchMatMul',
        inputs: { a: random(c.a), b: random(c.b) },
        attrs: { transposeA: c.transposeA, transposeB: c.transposeB },
      });
    });
  }

  const CASTS: Array<['float32' | 'int32' | 'bool', 'float32' | 'int32' | 'bool']> = [
    ['float32', 'float32'],
    ['float32', 'int32'],
    ['int32', 'int32'],
    ['int32', 'float32'],
    ['bool', 'float32'],
  ];
  for (const [from, to] of CASTS) {
    it(`Cast ${from} -> ${to}`, async () => {
      const x = random([2, 3, 5], -3, 3);
      if (from !== 'float32') x.data = x.data.map((v) => (from === 'bool' ? (v > 0 ? 1 : 0) : Math.trunc(v)));
      await expectMatchesCpu({ kernel: 'Cast', inputs: { x: { ...x, dtype: from } }, attrs: { dtype: to } });
    });
  }

  it('Identity', async () => {
    await expectMatchesCpu({ kernel: 'Identity', inputs: { x: random([3, 4, 5]) }, attrs: {} });
  });

  it('an aliased result outlives its source, and its data is freed with the last reference', () => {
    const backend = tf.findBackend('wasm') as unknown as { numDataIds(): number };
    const before = backend.numDataIds();
    const x = tf.tensor([1, 2, 3]);
    const y = x.clone(); // Identity
    const z = tf.cast(y, 'float32');
    x.dispose();
    y.dispose();
    expect(Array.from(z.dataSync())).toEqual([1, 2, 3]);
    expect(backend.numDataIds()).toBe(before + 1);
    z.dispose();
    expect(backend.numDataIds()).toBe(before);
  });

  const MULTIPLY_CASES: Array<[number[], number[]]> = [
    [[2, 5, 5, 8], [2, 5, 5, 1]], // one value per pixel: the generated kernel
    [[2, 5, 5, 1], [2, 5, 5, 8]],
    [[3, 12], [3, 1]],
    [[2, 5, 5, 3], [2, 5, 5, 1]], // channels not in fours: the backend's kernel
    [[2, 5, 5, 8], [2, 5, 5, 8]],
    [[2, 5, 5, 8], [8]],
    [[2, 1, 5, 8], [2, 5, 1, 1]],
    [[4, 1], [4, 1]],
  ];
  for (const [a, b] of MULTIPLY_CASES) {
    it(`Multiply [${a}] x [${b}]`, async () => {
      await expectMatchesCpu({ kernel: 'Multiply', inputs: { a: random(a), b: random(b) }, attrs: {} });
    });
  }

  it('Multiply of int32 tensors shaped like a pixel scaling (the backend\'s kernel)', async () => {
    const ints = (shape: number[]) => ({ ...random(shape, -5, 5), dtype: 'int32' as const });
    const a = ints([2, 3, 3, 4]);
    const b = ints([2, 3, 3, 1]);
    a.data = a.data.map(Math.round);
    b.data = b.data.map(Math.round);
    await expectMatchesCpu({ kernel: 'Multiply', inputs: { a, b }, attrs: {} });
  });

  it('Conv2D with dilation 2 (the backend\'s own kernel)', async () => {
    await expectMatchesCpu({
      kernel: 'Conv2D',
      inputs: { x: random([2, 9, 9, 8]), filter: random([3, 3, 8, 8]) },
      attrs: { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 2, dimRoundingMode: undefined },
    });
  });

  it('max-pool gradient passes nothing from windows without a finite maximum', async () => {
    const x = random([1, 4, 4, 2]);
    x.data.fill(-Infinity, 0, 8);
    x.data[9] = NaN;
    await expectMatchesCpu({
      kernel: 'MaxPoolGrad',
      inputs: { dy: random([1, 2, 2, 2]), input: x, output: random([1, 2, 2, 2]) },
      attrs: { filterSize: 2, strides: 2, pad: 'valid', dimRoundingMode: undefined },
    });
  });

  it('max-pool gradient (generated 2x2 kernel) passes nothing from -Infinity/NaN windows', async () => {
    const x = random([1, 4, 4, 4]);
    const at = (r: number, c: number, ch: number) => (r * 4 + c) * 4 + ch;
    for (const [r, c] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) {
      for (let ch = 0; ch < 4; ch++) x.data[at(r, c, ch)] = -Infinity; // window (0, 0): no maximum
    }
    for (let ch = 0; ch < 4; ch++) x.data[at(0, 2, ch)] = NaN; // window (0, 1): NaN never wins
    x.data[at(3, 3, 1)] = NaN;
    x.data[at(2, 2, 2)] = Infinity;
    await expectMatchesCpu({
      kernel: 'MaxPoolGrad',
      inputs: { dy: random([1, 2, 2, 4]), input: x, output: random([1, 2, 2, 4]) },
      attrs: { filterSize: 2, strides: 2, pad: 'valid', dimRoundingMode: undefined },
    });
  });
});
