// dL/dx of 2-D max pooling, in one pass over x on the wasm heap: each window's gradient goes to
// its first strict maximum in row-major order (TF.js's rule: ties, as in the all-zero windows
// after a ReLU, go to one position only; a window of NaN/-Infinity passes none).
import { tf } from '../tf.js';
import { withScope, type KernelArgs, type TensorInfo } from './wasm-backend.js';

interface Attrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: unknown;
  dimRoundingMode?: unknown;
}

function maxPoolGrad(args: KernelArgs<{ dy: TensorInfo; input: TensorInfo; output: TensorInfo }, Attrs>): TensorInfo {
  const { dy, input } = args.inputs;
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad as 'same',
    dimRoundingMode as 'floor' | undefined,
  );
  return withScope(args.backend, (s) => {
    const out = s.alloc([...input.shape]);
    const x = s.view(input);
    const g = s.view(dy);
    const dx = s.view(out);
    if (isWhole2x2(info)) {
      pool2x2Grad(x, g, dx, info);
      return out;
    }
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

/** 2x2 windows, stride 2, every window inside x (the usual pooling after a convolution). */
function isWhole2x2(info: PoolInfo): boolean {
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

/**
 * The same rule for disjoint 2x2 windows, without per-window state: the four candidates are
 * compared in row-major order and each dx element is written once.
 */
function pool2x2Grad(x: Float32Array, g: Float32Array, dx: Float32Array, info: PoolInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth } = info;
  // Odd sizes leave a last row/column outside every window: its gradient is zero.
  if (2 * outHeight < inHeight || 2 * outWidth < inWidth) dx.fill(0);
  const rowStride = inWidth * c;
  let gAt = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let p = 0; p < outHeight; p++) {
      for (let q = 0; q < outWidth; q++) {
        const a = ((n * inHeight + 2 * p) * inWidth + 2 * q) * c;
        for (let d = 0; d < c; d++, gAt++) {
          const i0 = a + d;
          const i1 = i0 + c;
          const i2 = i0 + rowStride;
          const i3 = i2 + c;
          let best = -Infinity;
          let k = -1;
          if (x[i0]! > best) {
            best = x[i0]!;
            k = 0;
          }
          if (x[i1]! > best) {
            best = x[i1]!;
            k = 1;
          }
          if (x[i2]! > best) {
            best = x[i2]!;
            k = 2;
          }
          if (x[i3]! > best) k = 3;
          const v = g[gAt]!;
          dx[i0] = k === 0 ? v : 0;
          dx[i1] = k === 1 ? v : 0;
          dx[i2] = k === 2 ? v : 0;
          dx[i3] = k === 3 ? v : 0;
        }
      }
    }
  }
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as tf.KernelFunc,
};
