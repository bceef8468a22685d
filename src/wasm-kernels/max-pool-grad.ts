// dL/dx of 2-D max pooling, in one pass over x on the wasm heap: each window's gradient goes to
// its first strict maximum in row-major order (TF.js's rule: ties, as in the all-zero windows
// after a ReLU, go to one position only; a window of NaN/-Infinity passes none).
import { tf } from '../tf.js';
import { withScope, type TensorInfo } from './wasm-backend.js';

interface Attrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: unknown;
  dimRoundingMode?: unknown;
}

function maxPoolGrad(args: {
  inputs: { dy: TensorInfo; input: TensorInfo; output: TensorInfo };
  attrs: Attrs;
  backend: unknown;
}): TensorInfo {
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

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as tf.KernelFunc,
};
