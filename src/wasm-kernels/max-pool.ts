// 2-D max pooling: disjoint 2x2 windows with channels in fours (the pooling after each of
// small-cnn's convolutions) in generated wasm, four channels per f32x4; any other pooling is
// the backend's own XNNPACK kernel. XNNPACK walks an indirection buffer (a pointer per window
// element per output pixel) and measured 2.5-3 ms on small-cnn's first pooling at batch 128.
// The maximum is the cpu backend's, bit for bit (test/wasm-bitwise.test.ts): XNNPACK's is the
// same value on finite inputs but may differ in the sign of a zero maximum (no float
// downstream depends on it: a sum from +0, a square, a comparison with 0), and it turns a
// window with NaN into -Infinity or drops its larger values.
import { tf } from '../tf.js';
import { WasmFunction, type Local } from './codegen/emitter.js';
import { generatedKernels, heapAddress } from './codegen/heap-module.js';
import { builtInKernel, withScope, type KernelArgs, type TensorInfo } from './wasm-backend.js';

export interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: unknown;
  dimRoundingMode?: unknown;
}

type PoolInfo = ReturnType<typeof tf.backend_util.computePool2DInfo>;

/** The pooling geometry of x's shape under the kernel's attributes (TF.js's own rules). */
export function poolInfo(shape: readonly number[], { filterSize, strides, pad, dimRoundingMode }: PoolAttrs): PoolInfo {
  return tf.backend_util.computePool2DInfo(
    shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad as 'same',
    dimRoundingMode as 'floor' | undefined,
  );
}

/** 2x2 windows, stride 2, every window inside x (the usual pooling after a convolution). */
export function isWhole2x2(info: PoolInfo): boolean {
  return (
    info.filterHeight === 2 &&
    info.filterWidth === 2 &&
    info.strideHeight === 2 &&
    info.strideWidth === 2 &&
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    2 * info.outHeight <= info.inHeight &&
    2 * info.outWidth <= info.inWidth
  );
}

function maxPool(args: KernelArgs<{ x: TensorInfo }, PoolAttrs>): TensorInfo {
  const { x } = args.inputs;
  const info = poolInfo(x.shape, args.attrs);
  if (!isWhole2x2(info) || info.inChannels % 4 !== 0) return builtInKernel('MaxPool')(args as never) as TensorInfo;
  return withScope(args.backend, (s) => {
    const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth } = info;
    const out = s.alloc([batchSize, outHeight, outWidth, c]);
    const kernel = generatedKernels(s.backend, `maxPool2x2/${c}/${inWidth}`, () => [emitPool2x2(c, inWidth)]);
    const at = (t: TensorInfo) => heapAddress(s.backend, t);
    kernel.maxPool2x2!(at(x), at(out), batchSize, outHeight, outWidth, inHeight * inWidth * c * 4);
    return out;
  });
}

/** maxPool2x2(x, y, images, outHeight, outWidth, imageBytes) for `c` channels (c % 4 == 0). */
function emitPool2x2(c: number, inWidth: number): WasmFunction {
  const f = new WasmFunction('maxPool2x2', 6);
  const [x, y, images, outHeight, outWidth, imageBytes] = [0, 1, 2, 3, 4, 5].map((i) => f.param(i));
  const [n, p, q, xAt, yAt] = f.locals('i32', 5);
  const [best, next] = f.locals('v128', 2);
  const pixel = c * 4;
  const row = inWidth * pixel;
  f.get(y).set(yAt);
  f.repeat(n, images, () => {
    f.repeat(p, outHeight, () => {
      // xAt = x + n * imageBytes + 2p * row
      f.get(x).get(n).get(imageBytes).mul().add().get(p).i32(2 * row).mul().add().set(xAt);
      f.repeat(q, outWidth, () => {
        for (let v = 0; v < c / 4; v++) {
          const o = v * 16;
          f.f32x4Const(-Infinity).set(best);
          for (const offset of [0, pixel, row, row + pixel]) {
            f.get(xAt).v128Load(o + offset).set(next);
            combine(f, best, next);
          }
          f.get(yAt).get(best).v128Store(o);
        }
        f.addTo(xAt, 2 * pixel).addTo(yAt, pixel);
      });
    });
  });
  return f;
}

/**
 * best = next > best ? next : best, lane by lane, from -Infinity: the cpu backend's rule. Of
 * equal values (+0 and -0) the first in row-major order is kept; NaN never wins, so a window's
 * NaNs are skipped and one of NaN only gives -Infinity.
 */
function combine(f: WasmFunction, best: Local, next: Local): void {
  f.get(next).get(best).get(next).get(best).f32x4Gt().v128Bitselect().set(best);
}

export const maxPoolConfig: tf.KernelConfig = {
  kernelName: 'MaxPool',
  backendName: 'wasm',
  kernelFunc: maxPool as unknown as tf.KernelFunc,
};
