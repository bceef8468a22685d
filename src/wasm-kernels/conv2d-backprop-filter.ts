// dL/dW of a 2-D convolution, dW[i, j, c, o] = sum_{n,p,q} xpad[n, p*s + i, q*s + j, c] dy[n, p, q, o].
// Output channels in fours: the generated direct kernel (direct-filter-gradient.ts). Otherwise,
// few input channels (a network's first layer): one matrix product of the transposed patch
// matrix [kh*kw*C, N*OH*OW] with dy [N*OH*OW, O]. Otherwise one XNNPACK convolution: with the
// batch as the channel axis, a valid convolution of x^T [C, H, W, N] with dy^T [OH, OW, N, O]
// dilated by the stride (no patch matrix in memory). At stride 1 the roles swap: dy^T
// [O, OH, OW, N] convolved with x^T [H, W, N, C] gives dW flipped in space; XNNPACK then packs
// x, the smaller operand, as its filter (about 10% faster on small-cnn's second layer).
import { tf } from '../tf.js';
import { convGeometry, explicitPad, PATCH_MATRIX_MAX_CHANNELS, type ConvGeometry, type ConvGradAttrs } from './conv-geometry.js';
import { directFilterGradient, directFilterGradientApplies } from './direct-filter-gradient.js';
import { transposedPatchMatrix } from './patch-matrix.js';
import { requireChannelsLast, withScope, type KernelScope, type KernelArgs, type TensorInfo } from './wasm-backend.js';

interface Attrs extends ConvGradAttrs {
  filterShape: [number, number, number, number];
}

function conv2dBackpropFilter(args: KernelArgs<{ x: TensorInfo; dy: TensorInfo }, Attrs>): TensorInfo {
  const { x, dy } = args.inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs;
  requireChannelsLast('Conv2DBackpropFilter', dataFormat);
  const g = convGeometry(x.shape, filterShape, strides, pad, dimRoundingMode);
  return withScope(args.backend, (s) =>
    directFilterGradientApplies(g)
      ? directFilterGradient(s, x, dy, g, filterShape)
      : g.inChannels <= PATCH_MATRIX_MAX_CHANNELS
      ? byPatchMatrix(s, { x, dy, g, filterShape })
      : unitStrideSwapped(g)
        ? bySwappedConvolution(s, { x, dy, g, filterShape })
        : byConvolution(s, { x, dy, g, filterShape }),
  );
}

interface FilterGradProblem {
  x: TensorInfo;
  dy: TensorInfo;
  g: ConvGeometry;
  filterShape: number[];
}


function byPatchMatrix(s: KernelScope, { x, dy, g, filterShape }: FilterGradProblem): TensorInfo {
  const m = g.batch * g.outHeight * g.outWidth;
  const patchesT = transposedPatchMatrix(s, x, g);
  const product = s.run(
    'BatchMatMul',
    { a: patchesT, b: s.reshape(dy, [1, m, g.outChannels]) },
    { transposeA: false, transposeB: false },
  );
  return s.reshape(product, [...filterShape]);
}

/** Stride 1 and padding no wider than the filter (always so for same and valid). */
function unitStrideSwapped(g: ConvGeometry): boolean {
  return (
    g.strideHeight === 1 &&
    g.strideWidth === 1 &&
    g.padTop <= g.filterHeight - 1 &&
    g.padLeft <= g.filterWidth - 1
  );
}

/** out[o, u, v, c] = sum dypad[o, u + r, v + t, n] x[n, r, t, c]; dW[i, j] = out[kh-1-i, kw-1-j]. */
function bySwappedConvolution(s: KernelScope, { x, dy, g, filterShape }: FilterGradProblem): TensorInfo {
  const { inHeight, inWidth, inChannels: ci, outHeight, outWidth, outChannels: co } = g;
  const { filterHeight: kh, filterWidth: kw } = g;
  const xT = s.run('Transpose', { x }, { perm: [1, 2, 0, 3] });
  const dyT = s.run('Transpose', { x: dy }, { perm: [3, 1, 2, 0] });
  const top = kh - 1 - g.padTop;
  const left = kw - 1 - g.padLeft;
  // Enough rows/columns after dy for kh x kw outputs.
  const bottom = Math.max(0, kh - 1 + inHeight - outHeight - top);
  const right = Math.max(0, kw - 1 + inWidth - outWidth - left);
  const r = s.run(
    'Conv2D',
    { x: dyT, filter: xT },
    { strides: [1, 1], dilations: [1, 1], pad: explicitPad(top, bottom, left, right), dataFormat: 'NHWC' },
  );
  const [, rh, rw] = r.shape as number[];
  const out = s.alloc([...filterShape]);
  const src = s.view(r);
  const dst = s.view(out);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      for (let c = 0; c < ci; c++) {
        const to = ((i * kw + j) * ci + c) * co;
        const from = ((kh - 1 - i) * rw! + (kw - 1 - j)) * ci + c;
        for (let o = 0; o < co; o++) dst[to + o] = src[o * rh! * rw! * ci + from]!;
      }
    }
  }
  return out;
}

function byConvolution(s: KernelScope, { x, dy, g, filterShape }: FilterGradProblem): TensorInfo {
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
}

export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc,
};
