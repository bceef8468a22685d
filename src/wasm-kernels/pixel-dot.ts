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

/** Independent partial sums per pixel, so the adds do not wait on each other. */
const PARTIAL_SUMS = 4;

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
    kernel.pixelDot!(at(dy), at(x), at(out), pixels);
    return out;
  });
}

/** pixelDot(dy, x, out, pixels) for `channels` a multiple of 4 (the channel loop unrolled). */
function emitPixelDot(channels: number): WasmFunction {
  const f = new WasmFunction('pixelDot', 4);
  const [dy, x, out, pixels] = [f.param(0), f.param(1), f.param(2), f.param(3)];
  const [p, dyAt, xAt, outAt] = f.locals('i32', 4);
  const vectors = channels / 4;
  const acc = f.locals('v128', Math.min(PARTIAL_SUMS, vectors));
  f.get(dy).set(dyAt).get(x).set(xAt).get(out).set(outAt);
  f.repeat(p, pixels, () => {
    for (let v = 0; v < vectors; v++) {
      const a = acc[v % acc.length]!;
      f.get(dyAt).v128Load(v * 16).get(xAt).v128Load(v * 16).f32x4Mul();
      if (v < acc.length) f.set(a);
      else f.get(a).f32x4Add().set(a);
    }
    for (let k = 1; k < acc.length; k++) f.get(acc[0]!).get(acc[k]!).f32x4Add().set(acc[0]!);
    f.get(outAt);
    f.get(acc[0]!).f32x4ExtractLane(0).get(acc[0]!).f32x4ExtractLane(1).f32Add();
    f.get(acc[0]!).f32x4ExtractLane(2).f32Add().get(acc[0]!).f32x4ExtractLane(3).f32Add();
    f.f32Store();
    f.addTo(dyAt, channels * 4).addTo(xAt, channels * 4).addTo(outAt, 4);
  });
  return f;
}

export const pixelDotConfig: tf.KernelConfig = {
  kernelName: PIXEL_DOT,
  backendName: 'wasm',
  kernelFunc: pixelDot as unknown as tf.KernelFunc,
};
