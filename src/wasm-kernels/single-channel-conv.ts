// A stride-1 convolution with one input and one output channel (the decoupled operators'
// patch norms: a box filter of ones over each pixel's squared norm), and its input gradient,
// in generated wasm: four output pixels of a row per f32x4, the taps summed one after another
// from zero. XNNPACK ran the forward one as a depthwise convolution through an indirection
// buffer (a pointer per tap per pixel: 1.4-1.8 ms for small-cnn's 28x28 inputs at batch 128);
// the input gradient went through a matrix product and a scatter of patch gradients (1.5 ms).
// Each route adds the taps in the order the kernel it replaces did, so the floats are the
// same bit for bit: the committed models' results do not move.
import { WasmFunction } from './codegen/emitter.js';
import { generatedKernels, heapAddress, shapeKey } from './codegen/heap-module.js';
import type { KernelScope, TensorInfo } from './wasm-backend.js';

/** A valid correlation of a padded single-channel input (inHeight/inWidth: the padded size). */
export interface SingleChannelShape {
  batch: number;
  inHeight: number;
  inWidth: number;
  outHeight: number;
  outWidth: number;
}

/** One tap: y[p, q] += x[p + row, q + column] * w[weight] (w: the filter's kh*kw values). */
export interface Tap {
  row: number;
  column: number;
  weight: number;
}

export function singleChannelApplies(inChannels: number, outChannels: number, strides: [number, number]): boolean {
  return inChannels === 1 && outChannels === 1 && strides[0] === 1 && strides[1] === 1;
}

/** Filter sizes whose forward taps XNNPACK sums column by column (its depthwise tiles). */
const DEPTHWISE_SIZES = new Set(['1x1', '2x2', '3x3', '5x5']);

/**
 * The forward convolution's taps in XNNPACK's depthwise order: filter column by column, each
 * column top to bottom. Measured for 1x1, 2x2, 3x3 and 5x5 filters (test/wasm-bitwise.test.ts);
 * other sizes XNNPACK sums row by row through another kernel, and they stay with it (undefined).
 */
export function forwardTaps(kh: number, kw: number): Tap[] | undefined {
  if (!DEPTHWISE_SIZES.has(`${kh}x${kw}`)) return undefined;
  const taps: Tap[] = [];
  for (let j = 0; j < kw; j++) for (let i = 0; i < kh; i++) taps.push({ row: i, column: j, weight: i * kw + j });
  return taps;
}

/**
 * The input gradient's taps over dy padded by (kh - 1 - padTop, kw - 1 - padLeft), in the
 * order the patch-gradient scatter added them (output pixels in raster order, so filter rows
 * and, within a row, columns from last to first): dx[r, c] = sum w[i, j] dy[r + padTop - i, c + padLeft - j].
 */
export function inputGradientTaps(kh: number, kw: number): Tap[] {
  const taps: Tap[] = [];
  for (let i = kh - 1; i >= 0; i--) for (let j = kw - 1; j >= 0; j--) taps.push({ row: kh - 1 - i, column: kw - 1 - j, weight: i * kw + j });
  return taps;
}

/** y [N, OH, OW, 1] = the taps of `filter` ([kh, kw, 1, 1]) over the padded input, in order. */
export function singleChannelConv(s: KernelScope, xPadded: TensorInfo, filter: TensorInfo, shape: SingleChannelShape, taps: readonly Tap[]): TensorInfo {
  const y = s.alloc([shape.batch, shape.outHeight, shape.outWidth, 1]);
  const order = taps.map((t) => `${t.row}.${t.column}.${t.weight}`).join('_');
  const kernel = generatedKernels(s.backend, shapeKey('conv1x1ch', { ...shape, order }), () => [emitSingleChannel(shape, taps)]);
  const at = (t: TensorInfo) => heapAddress(s.backend, t);
  kernel.conv1x1ch!(at(xPadded), at(filter), at(y), shape.batch);
  return y;
}

/** conv1x1ch(x, w, y, images). */
function emitSingleChannel(shape: SingleChannelShape, taps: readonly Tap[]): WasmFunction {
  const f = new WasmFunction('conv1x1ch', 4);
  const [x, w, y, images] = [f.param(0), f.param(1), f.param(2), f.param(3)];
  const [n, p, q, xRow, yAt, xAt] = f.locals('i32', 6);
  const acc = f.local('v128');
  const scalar = f.local('f32');
  const { inHeight: hp, inWidth: wp, outHeight: oh, outWidth: ow } = shape;
  const vectors = Math.floor(ow / 4);
  f.get(y).set(yAt);
  f.repeat(n, images, () => {
    f.repeat(p, oh, () => {
      // xRow = x + (n*hp + p)*wp*4
      f.get(n).i32(hp).mul().get(p).add().i32(wp * 4).mul().get(x).add().set(xRow);
      f.get(xRow).set(xAt);
      f.repeat(q, vectors, () => {
        f.f32x4Const(0).set(acc);
        for (const t of taps) {
          f.get(acc).get(xAt).v128Load((t.row * wp + t.column) * 4).get(w).f32x4LoadSplat(t.weight * 4);
          f.f32x4Mul().f32x4Add().set(acc);
        }
        f.get(yAt).get(acc).v128Store();
        f.addTo(xAt, 16).addTo(yAt, 16);
      });
      f.repeat(q, ow % 4, () => {
        f.f32Const(0).set(scalar);
        for (const t of taps) {
          f.get(scalar).get(xAt).f32Load((t.row * wp + t.column) * 4).get(w).f32Load(t.weight * 4);
          f.f32Mul().f32Add().set(scalar);
        }
        f.get(yAt).get(scalar).f32Store();
        f.addTo(xAt, 4).addTo(yAt, 4);
      });
    });
  });
  return f;
}
