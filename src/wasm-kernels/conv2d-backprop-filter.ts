// dL/dW of a 2-D convolution as one XNNPACK convolution: with the batch as the channel axis,
// dW[i, j, c, o] = sum_{n,p,q} xpad[n, p*s + i, q*s + j, c] * dy[n, p, q, o] is a valid
// convolution of x^T [C, H, W, N] with dy^T [OH, OW, N, O] dilated by the stride.
import { tf } from '../tf.js';
import { convGeometry, explicitPad } from './conv-geometry.js';
import { requireChannelsLast, withScope, type TensorInfo } from './wasm-backend.js';

interface Attrs {
  strides: number | [number, number];
  pad: unknown;
  dataFormat?: string;
  dimRoundingMode?: unknown;
  filterShape: [number, number, number, number];
}

function conv2dBackpropFilter(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  attrs: Attrs;
  backend: unknown;
}): TensorInfo {
  const { x, dy } = args.inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs;
  requireChannelsLast('Conv2DBackpropFilter', dataFormat);
  const g = convGeometry(x.shape, filterShape, strides, pad, dimRoundingMode);
  return withScope(args.backend, (s) => {
    const xT = s.run('Transpose', { x }, { perm: [3, 1, 2, 0] });
    const dyT = s.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
    // Pad x so that the convolution yields at least filterHeight x filterWidth outputs.
    const bottom = Math.max(
      0,
      g.filterHeight + (g.outHeight - 1) * g.strideHeight - g.padTop - g.inHeight,
    );
    const right = Math.max(
      0,
      g.filterWidth + (g.outWidth - 1) * g.strideWidth - g.padLeft - g.inWidth,
    );
    const r = s.run(
      'Conv2D',
      { x: xT, filter: dyT },
      {
        strides: [1, 1],
        dilations: [g.strideHeight, g.strideWidth],
        pad: explicitPad(g.padTop, bottom, g.padLeft, right),
        dataFormat: 'NHWC',
      },
    );
    // [C, kh', kw', O] -> [kh, kw, C, O], dropping rows/columns past the filter.
    const out = s.alloc([...filterShape]);
    const [, rh, rw, co] = r.shape as number[];
    const src = s.view(r);
    const dst = s.view(out);
    const kh = g.filterHeight;
    const kw = g.filterWidth;
    const ci = g.inChannels;
    for (let c = 0; c < ci; c++) {
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const from = ((c * rh! + i) * rw! + j) * co!;
          const to = ((i * kw + j) * ci + c) * co!;
          for (let o = 0; o < co!; o++) dst[to + o] = src[from + o]!;
        }
      }
    }
    return out;
  });
}

export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc,
};
