// The gradient of a per-pixel scale: y = x * s with s one value per pixel ([..., 1], as the
// decoupled operators scale every channel by h(|x|)/|x|) has ds = sum over channels of dy * x.
// TF.js computes it as a full-size Multiply, then a Sum over the last axis; here one pass
// reads dy and x and writes one value per pixel.
import { tf } from '../tf.js';
import { WasmFunction } from './codegen/emitter.js';
import { generatedKernels, heapAddress } from './codegen/heap-module.js';
import { withScope, type KernelArgs, type TensorInfo } from './wasm-backend.js';

/** The kernel's name (the project's own). */
export const PIXEL_DOT = 'DcnetPixelDot';

/** Whether the kernel takes these operands: float32, one shape, channels in fours. */
export function pixelDotApplies(dy: TensorInfo, x: TensorInfo): boolean {
  const channels = x.shape[x.shape.length - 1] ?? 0;
  return dy.dtype === 'float32' && x.dtype === 'float32' && x.shape.length >= 1 && channels % 4 === 0 && channels > 0 && tf.util.arraysEqual(dy.shape, x.shape);
}

/** out[..., 0] = sum over the last axis of dy * x. */
function pixelDot(args: KernelArgs<{ dy: TensorInfo; x: TensorInfo }>): TensorInfo {
  const { dy, x } = args.inputs;
  if (!pixelDotApplies(dy, x)) throw new Error(`${PIXEL_DOT}: needs float32 dy and x of one shape with channels in fours`);
  const channels = x.shape[x.shape.length - 1]!;
  const pixels = x.shape.reduce((a, b) => a * b, 1) / channels;
  return withScope(args.backend, (s) => {
    const out = s.alloc([...x.shape.slice(0, -1), 1]);
    const kernel = generatedKernels(s.backend, `pixelDot/${channels}`, () => [emitPixelDot(channels)]);
    const at = (t: TensorInfo) => heapAddress(s.backend, t);
    kernel.pixelDot!(at(dy), at(x), at(out), Math.floor(pixels / 4), pixels % 4);
    return out;
  });
}

/**
 * pixelDot(dy, x, out, pixels) for `channels` a multiple of 4 (the channel loop unrolled).
 * Each pixel's products are added in channel order from 0, as the backend's Multiply and Sum
 * do, so the result is the same to the bit (published models are retrained bit for bit):
 * four pixels at a time, their products transposed so that each lane adds one pixel's.
 */
function emitPixelDot(channels: number): WasmFunction {
  const f = new WasmFunction('pixelDot', 5);
  const [dy, x, out, blocks, tail] = [0, 1, 2, 3, 4].map((i) => f.param(i));
  const [p, dyAt, xAt, outAt] = f.locals('i32', 4);
  const rows = f.locals('v128', 4);
  const [t0, t1, t2, t3, acc] = f.locals('v128', 5);
  const sum = f.local('f32');
  const pixel = channels * 4;
  f.get(dy).set(dyAt).get(x).set(xAt).get(out).set(outAt);
  f.repeat(p, blocks, () => {
    f.f32x4Const(0).set(acc);
    for (let v = 0; v < channels / 4; v++) {
      // rows[r]: pixel r's products of channels 4v..4v+3; transposed, lane r is pixel r's.
      rows.forEach((row, r) => f.get(dyAt).v128Load(r * pixel + v * 16).get(xAt).v128Load(r * pixel + v * 16).f32x4Mul().set(row));
      f.get(rows[0]!).get(rows[1]!).f32x4Shuffle([0, 4, 1, 5]).set(t0);
      f.get(rows[0]!).get(rows[1]!).f32x4Shuffle([2, 6, 3, 7]).set(t1);
      f.get(rows[2]!).get(rows[3]!).f32x4Shuffle([0, 4, 1, 5]).set(t2);
      f.get(rows[2]!).get(rows[3]!).f32x4Shuffle([2, 6, 3, 7]).set(t3);
      f.get(acc).get(t0).get(t2).f32x4Shuffle([0, 1, 4, 5]).f32x4Add().set(acc);
      f.get(acc).get(t0).get(t2).f32x4Shuffle([2, 3, 6, 7]).f32x4Add().set(acc);
      f.get(acc).get(t1).get(t3).f32x4Shuffle([0, 1, 4, 5]).f32x4Add().set(acc);
      f.get(acc).get(t1).get(t3).f32x4Shuffle([2, 3, 6, 7]).f32x4Add().set(acc);
    }
    f.get(outAt).get(acc).v128Store();
    f.addTo(dyAt, 4 * pixel).addTo(xAt, 4 * pixel).addTo(outAt, 16);
  });
  // The last pixels one by one, in the same order.
  f.repeat(p, tail, () => {
    f.f32x4Const(0).f32x4ExtractLane(0).set(sum);
    for (let v = 0; v < channels / 4; v++) {
      f.get(dyAt).v128Load(v * 16).get(xAt).v128Load(v * 16).f32x4Mul().set(acc);
      for (let lane = 0; lane < 4; lane++) f.get(sum).get(acc).f32x4ExtractLane(lane).f32Add().set(sum);
    }
    f.get(outAt).get(sum).f32Store();
    f.addTo(dyAt, pixel).addTo(xAt, pixel).addTo(outAt, 4);
  });
  return f;
}

export const pixelDotConfig: tf.KernelConfig = {
  kernelName: PIXEL_DOT,
  backendName: 'wasm',
  kernelFunc: pixelDot as unknown as tf.KernelFunc,
};
