// dL/dx of 2-D max pooling, in one pass over x on the wasm heap: each window's gradient goes to
// its first strict maximum in row-major order (TF.js's rule: ties, as in the all-zero windows
// after a ReLU, go to one position only; a window of NaN/-Infinity passes none).
import { tf } from '../tf.js';
import { WasmFunction } from './codegen/emitter.js';
import { generatedKernels, heapAddress } from './codegen/heap-module.js';
import { isWhole2x2, poolInfo, type PoolAttrs } from './max-pool.js';
import { withScope, type KernelArgs, type KernelScope, type TensorInfo } from './wasm-backend.js';

function maxPoolGrad(args: KernelArgs<{ dy: TensorInfo; input: TensorInfo; output: TensorInfo }, PoolAttrs>): TensorInfo {
  const { dy, input } = args.inputs;
  const info = poolInfo(input.shape, args.attrs);
  return withScope(args.backend, (s) => {
    const out = s.alloc([...input.shape]);
    if (isWhole2x2(info) && info.inChannels % 4 === 0) {
      pool2x2Grad(s, input, dy, out, info);
      return out;
    }
    const x = s.view(input);
    const g = s.view(dy);
    const dx = s.view(out);
    dx.fill(0);
    const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth } = info;
    const { strideHeight, strideWidth, filterHeight, filterWidth } = info;
    const { top, left } = info.padInfo;
    // Per channel of the current window: running maximum and its flat index into x.
    const best = new Float32Array(c);
    const where = new Int32Array(c);
    for (let n = 0; n < batchSize; n++) {
      const xBase = n * inHeight * inWidth * c;
      for (let p = 0; p < outHeight; p++) {
        const r0 = Math.max(0, p * strideHeight - top);
        const r1 = Math.min(inHeight, p * strideHeight - top + filterHeight);
        for (let q = 0; q < outWidth; q++) {
          const c0 = Math.max(0, q * strideWidth - left);
          const c1 = Math.min(inWidth, q * strideWidth - left + filterWidth);
          best.fill(-Infinity);
          where.fill(-1);
          for (let r = r0; r < r1; r++) {
            for (let col = c0; col < c1; col++) {
              const at = xBase + (r * inWidth + col) * c;
              for (let d = 0; d < c; d++) {
                const v = x[at + d]!;
                if (v > best[d]!) {
                  best[d] = v;
                  where[d] = at + d;
                }
              }
            }
          }
          const gAt = ((n * outHeight + p) * outWidth + q) * c;
          for (let d = 0; d < c; d++) {
            const i = where[d]!;
            if (i >= 0) dx[i] = dx[i]! + g[gAt + d]!;
          }
        }
      }
    }
    return out;
  });
}

type PoolInfo = ReturnType<typeof tf.backend_util.computePool2DInfo>;

/**
 * The same rule for disjoint 2x2 windows, four channels at a time, in generated wasm
 * specialised on the channel count and row length: the four candidates are compared in
 * row-major order (lane masks) and each dx element is written once.
 */
function pool2x2Grad(s: KernelScope, input: TensorInfo, dy: TensorInfo, out: TensorInfo, info: PoolInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth } = info;
  // Odd sizes leave a last row/column outside every window: its gradient is zero.
  if (2 * outHeight < inHeight || 2 * outWidth < inWidth) s.view(out).fill(0);
  const kernel = generatedKernels(s.backend, `maxPoolGrad2x2/${c}/${inWidth}`, () => [emitPool2x2Grad(c, inWidth)]);
  const at = (t: TensorInfo) => heapAddress(s.backend, t);
  kernel.maxPoolGrad2x2!(at(input), at(dy), at(out), batchSize, outHeight, outWidth, inHeight * inWidth * c * 4);
}

/** maxPoolGrad2x2(x, dy, dx, images, outHeight, outWidth, imageBytes) for `c` channels (c % 4 == 0). */
function emitPool2x2Grad(c: number, inWidth: number): WasmFunction {
  const f = new WasmFunction('maxPoolGrad2x2', 7);
  const [x, dy, dx, images, outHeight, outWidth, imageBytes] = [0, 1, 2, 3, 4, 5, 6].map((i) => f.param(i));
  const [n, p, q, xAt, dxAt, dyAt] = f.locals('i32', 6);
  const [x0, x1, x2, x3, best, t0, t1, t2, t3, g] = f.locals('v128', 10);
  const pixel = c * 4;
  const row = inWidth * pixel;
  f.get(dy).set(dyAt);
  f.repeat(n, images, () => {
    f.repeat(p, outHeight, () => {
      // xAt = x + n * imageBytes + 2p * row
      f.get(x).get(n).get(imageBytes).mul().add().get(p).i32(2 * row).mul().add().set(xAt);
      f.repeat(q, outWidth, () => {
        f.get(xAt).get(dx).add().get(x).sub().set(dxAt);
        for (let v = 0; v < c / 4; v++) {
          const o = v * 16;
          f.get(xAt).v128Load(o).set(x0);
          f.get(xAt).v128Load(o + pixel).set(x1);
          f.get(xAt).v128Load(o + row).set(x2);
          f.get(xAt).v128Load(o + row + pixel).set(x3);
          // Running maximum in row-major order; t_k: candidate k beats all before it.
          f.get(x0).f32x4Const(-Infinity).f32x4Gt().set(t0);
          f.get(x0).f32x4Const(-Infinity).get(t0).v128Bitselect().set(best);
          f.get(x1).get(best).f32x4Gt().set(t1);
          f.get(x1).get(best).get(t1).v128Bitselect().set(best);
          f.get(x2).get(best).f32x4Gt().set(t2);
          f.get(x2).get(best).get(t2).v128Bitselect().set(best);
          f.get(x3).get(best).f32x4Gt().set(t3);
          f.get(dyAt).v128Load(o).set(g);
          // The last candidate that won is the window's first strict maximum.
          f.get(dxAt).get(g).get(t3).v128And().v128Store(o + row + pixel);
          f.get(dxAt).get(g).get(t2).get(t3).v128AndNot().v128And().v128Store(o + row);
          f.get(t2).get(t3).v128Or().set(t3);
          f.get(dxAt).get(g).get(t1).get(t3).v128AndNot().v128And().v128Store(o + pixel);
          f.get(t1).get(t3).v128Or().set(t3);
          f.get(dxAt).get(g).get(t0).get(t3).v128AndNot().v128And().v128Store(o);
        }
        f.addTo(xAt, 2 * pixel).addTo(dyAt, pixel);
      });
    });
  });
  return f;
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as tf.KernelFunc,
};
