// Per-channel reductions and affine maps of NHWC tensors, the work of batch normalisation
// (src/ops/batch-norm.ts), as generated SIMD loops on the wasm heap. TF.js's wasm Sum over
// every axis but the last transposes the tensor first (measured 81 ms a call at small-cnn-bn's
// first layer, batch 128), and its broadcasting Mul/Add compute an index per element; here
// each is one pass over the data, channels four at a time.
//
// ChannelSums(a, b, ka, kb) -> [2, C]: row 0 = sum over pixels of (a - ka), row 1 = sum of
//   (a - ka) * (b - kb). Moments are ChannelSums(x, x, k, k) with k a shift near the mean
//   (no cancellation in the variance); the backward pass is ChannelSums(dy, x, 0, mean).
// ChannelAffine(a, s, t[, b, u]) -> a * s + t [+ b * u], s, t, u per channel.
import { tf } from '../tf.js';
import { WasmFunction, type Local } from './codegen/emitter.js';
import { generatedKernels, heapAddress } from './codegen/heap-module.js';
import { withScope, type KernelArgs, type TensorInfo } from './wasm-backend.js';

export const CHANNEL_SUMS = 'ChannelSums';
export const CHANNEL_AFFINE = 'ChannelAffine';

/**
 * Pixels summed in registers before the partial sums are added to the totals in memory: a
 * block (64 pixels x C channels) stays in L1 while each group of channels passes over it, and
 * the two-level sum keeps float32 rounding small on 100,000-pixel reductions.
 */
const BLOCK = 64;
/** Channel vectors (4 channels each) accumulated together: 4 x 4 registers, and 2 temporaries. */
const CHUNK = 4;

const size = (t: TensorInfo) => t.shape.reduce((x, y) => x * y, 1);
const channelsOf = (t: TensorInfo) => t.shape[t.shape.length - 1] ?? 1;

/** Whether the generated kernels take these operands: float32, channels a multiple of 4. */
export function simdChannels(t: TensorInfo): boolean {
  return t.dtype === 'float32' && t.shape.length >= 1 && channelsOf(t) % 4 === 0;
}

function chunks(channels: number): Array<{ first: number; count: number }> {
  const vectors = channels / 4;
  const out: Array<{ first: number; count: number }> = [];
  for (let v = 0; v < vectors; v += CHUNK) out.push({ first: v, count: Math.min(CHUNK, vectors - v) });
  return out;
}

/** sums(a, b, ka, kb, out, blocks, blockPixels): adds each block's two sums to out[0..2C). */
function emitSums(channels: number): WasmFunction {
  const f = new WasmFunction('sums', 7);
  const [a, b, ka, kb, out, blocks, blockPixels] = [0, 1, 2, 3, 4, 5, 6].map((i) => f.param(i));
  const [blk, p, pa, pb] = f.locals('i32', 4);
  const [da, db] = f.locals('v128', 2);
  const shiftA = f.locals('v128', CHUNK);
  const shiftB = f.locals('v128', CHUNK);
  const s = f.locals('v128', CHUNK);
  const q = f.locals('v128', CHUNK);
  const pixel = channels * 4;
  f.repeat(blk, blocks, () => {
    for (const { first, count } of chunks(channels)) {
      for (let v = 0; v < count; v++) {
        const o = (first + v) * 16;
        f.get(ka).v128Load(o).set(shiftA[v]!);
        f.get(kb).v128Load(o).set(shiftB[v]!);
        f.f32x4Const(0).set(s[v]!);
        f.f32x4Const(0).set(q[v]!);
      }
      f.get(a).set(pa).get(b).set(pb);
      f.repeat(p, blockPixels, () => {
        for (let v = 0; v < count; v++) {
          const o = (first + v) * 16;
          f.get(pa).v128Load(o).get(shiftA[v]!).f32x4Sub().set(da);
          f.get(s[v]!).get(da).f32x4Add().set(s[v]!);
          f.get(pb).v128Load(o).get(shiftB[v]!).f32x4Sub().set(db);
          f.get(q[v]!).get(da).get(db).f32x4Mul().f32x4Add().set(q[v]!);
        }
        f.addTo(pa, pixel).addTo(pb, pixel);
      });
      for (let v = 0; v < count; v++) {
        const o = (first + v) * 16;
        addInto(f, out, o, s[v]!);
        addInto(f, out, o + pixel, q[v]!);
      }
    }
    // Next block.
    f.get(blockPixels).i32(pixel).mul().get(a).add().set(a);
    f.get(blockPixels).i32(pixel).mul().get(b).add().set(b);
  });
  return f;
}

/** memory[base + offset] += value (four lanes). */
function addInto(f: WasmFunction, base: Local, offset: number, value: Local): void {
  f.get(base).get(base).v128Load(offset).get(value).f32x4Add().v128Store(offset);
}

/** affine(a, s, t, out, pixels) or, `twoTerms`, affine(a, s, t, b, u, out, pixels). */
function emitAffine(channels: number, twoTerms: boolean): WasmFunction {
  const f = new WasmFunction('affine', twoTerms ? 7 : 5);
  const a = f.param(0);
  const scale = f.param(1);
  const shift = f.param(2);
  const b = twoTerms ? f.param(3) : undefined;
  const u = twoTerms ? f.param(4) : undefined;
  const out = f.param(twoTerms ? 5 : 3);
  const pixels = f.param(twoTerms ? 6 : 4);
  const [p] = f.locals('i32', 1);
  const pixel = channels * 4;
  f.repeat(p, pixels, () => {
    for (let v = 0; v < channels / 4; v++) {
      const o = v * 16;
      f.get(out);
      f.get(a).v128Load(o).get(scale).v128Load(o).f32x4Mul().get(shift).v128Load(o).f32x4Add();
      if (b && u) f.get(b).v128Load(o).get(u).v128Load(o).f32x4Mul().f32x4Add();
      f.v128Store(o);
    }
    f.addTo(a, pixel).addTo(out, pixel);
    if (b) f.addTo(b, pixel);
  });
  return f;
}

function channelSums(args: KernelArgs<{ a: TensorInfo; b: TensorInfo; ka: TensorInfo; kb: TensorInfo }>): TensorInfo {
  const { a, b, ka, kb } = args.inputs;
  const channels = channelsOf(a);
  check(CHANNEL_SUMS, [a, b], [ka, kb], channels);
  const pixels = size(a) / channels;
  return withScope(args.backend, (sc) => {
    const out = sc.alloc([2, channels]);
    sc.view(out).fill(0);
    const kernel = generatedKernels(sc.backend, `channelSums/${channels}`, () => [emitSums(channels)]);
    const at = (t: TensorInfo) => heapAddress(sc.backend, t);
    const blocks = Math.floor(pixels / BLOCK);
    const rest = pixels - blocks * BLOCK;
    if (blocks > 0) kernel.sums!(at(a), at(b), at(ka), at(kb), at(out), blocks, BLOCK);
    if (rest > 0) {
      const skip = blocks * BLOCK * channels * 4;
      kernel.sums!(at(a) + skip, at(b) + skip, at(ka), at(kb), at(out), 1, rest);
    }
    return out;
  });
}

function channelAffine(args: KernelArgs<{ a: TensorInfo; s: TensorInfo; t: TensorInfo; b?: TensorInfo; u?: TensorInfo }>): TensorInfo {
  const { a, s, t, b, u } = args.inputs;
  const channels = channelsOf(a);
  const twoTerms = b !== undefined && u !== undefined;
  check(CHANNEL_AFFINE, twoTerms ? [a, b] : [a], twoTerms ? [s, t, u] : [s, t], channels);
  const pixels = size(a) / channels;
  return withScope(args.backend, (sc) => {
    const out = sc.alloc([...a.shape]);
    const kernel = generatedKernels(sc.backend, `channelAffine/${channels}/${twoTerms ? 2 : 1}`, () => [emitAffine(channels, twoTerms)]);
    const at = (x: TensorInfo) => heapAddress(sc.backend, x);
    if (twoTerms) kernel.affine!(at(a), at(s), at(t), at(b), at(u), at(out), pixels);
    else kernel.affine!(at(a), at(s), at(t), at(out), pixels);
    return out;
  });
}

/** The ops only call these kernels with matching float32 operands; anything else is a bug. */
function check(kernel: string, full: TensorInfo[], perChannel: TensorInfo[], channels: number): void {
  const ok =
    channels % 4 === 0 &&
    full.every((x) => x.dtype === 'float32' && tf.util.arraysEqual(x.shape, full[0]!.shape)) &&
    perChannel.every((x) => x.dtype === 'float32' && size(x) === channels);
  if (!ok) {
    const shapes = [...full, ...perChannel].map((x) => `${x.dtype}[${x.shape.join(',')}]`).join(', ');
    throw new Error(`${kernel} on wasm needs float32 operands of one shape with channels in fours, and one value per channel: got ${shapes}.`);
  }
}

export const channelSumsConfig: tf.KernelConfig = {
  kernelName: CHANNEL_SUMS,
  backendName: 'wasm',
  kernelFunc: channelSums as unknown as tf.KernelFunc,
};

export const channelAffineConfig: tf.KernelConfig = {
  kernelName: CHANNEL_AFFINE,
  backendName: 'wasm',
  kernelFunc: channelAffine as unknown as tf.KernelFunc,
};
