// dL/dx of a 2-D convolution. Usually one convolution (direct-conv2d.ts's, or XNNPACK's): the
// "full" correlation of dy (with stride-1 zeros inserted between its pixels) with the
// spatially flipped filter, whose in/out channels are swapped. With few input channels (a
// first layer, as in FGSM's input gradient) that convolution would have almost no output
// channels: at stride 1 the generated direct kernel (direct-input-gradient.ts) sums each
// pixel's taps instead (single-channel-conv.ts's kernel with one input and one output
// channel); otherwise the patch gradients dy W^T [N*OH*OW, kh*kw*C] (one matrix
// product) are added back onto the image.
import { tf } from '../tf.js';
import { convolve } from './direct-conv2d.js';
import { directInputGradient, directInputGradientApplies } from './direct-input-gradient.js';
import { convGeometry, PATCH_MATRIX_MAX_CHANNELS, type ConvGeometry, type ConvGradAttrs } from './conv-geometry.js';
import { inputGradientTaps, singleChannelApplies, singleChannelConv } from './single-channel-conv.js';
import { zeroPad } from './zero-pad.js';
import { addPatchGradients } from './patch-matrix.js';
import { requireChannelsLast, withScope, type KernelScope, type KernelArgs, type TensorInfo } from './wasm-backend.js';

interface Attrs extends ConvGradAttrs {
  inputShape: [number, number, number, number];
}

function conv2dBackpropInput(args: KernelArgs<{ dy: TensorInfo; filter: TensorInfo }, Attrs>): TensorInfo {
  const { dy, filter } = args.inputs;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs;
  requireChannelsLast('Conv2DBackpropInput', dataFormat);
  const g = convGeometry(inputShape, filter.shape, strides, pad, dimRoundingMode);
  return withScope(args.backend, (s) => {
    if (directInputGradientApplies(g)) return directInputGradient(s, dy, filter, g);
    if (singleChannelApplies(g.inChannels, g.outChannels, [g.strideHeight, g.strideWidth])) {
      const padded = singleChannelInputGradient(s, dy, filter, g);
      if (padded) return padded;
    }
    if (g.inChannels <= PATCH_MATRIX_MAX_CHANNELS) return byPatchGradients(s, dy, filter, g);
    const flipped = flippedFilter(s, filter, g);
    // Rows of dy's "full" correlation: dy's pixel p sits at p*stride + padHead.
    const padTop = g.filterHeight - 1 - g.padTop;
    const padLeft = g.filterWidth - 1 - g.padLeft;
    const padBottom = g.inHeight + g.padTop - ((g.outHeight - 1) * g.strideHeight + 1);
    const padRight = g.inWidth + g.padLeft - ((g.outWidth - 1) * g.strideWidth + 1);
    const unitStride = g.strideHeight === 1 && g.strideWidth === 1;
    const out = { height: g.inHeight, width: g.inWidth };
    if (unitStride && Math.min(padTop, padLeft, padBottom, padRight) >= 0) {
      // Padded implicitly (XNNPACK) or once (the direct kernel): no spread copy.
      const pad = { top: padTop, bottom: padBottom, left: padLeft, right: padRight };
      return convolve(s, dy, flipped, pad, [1, 1], out);
    }
    const spread = spreadPadded(s, dy, g, padTop, padLeft);
    return convolve(s, spread, flipped, { top: 0, bottom: 0, left: 0, right: 0 }, [1, 1], out);
  });
}

/**
 * One input and one output channel at stride 1: dy zero-padded so that every tap of every
 * image pixel is inside it, then the single-channel kernel with the patch-gradient scatter's
 * order of taps. Undefined where the padding would have to crop dy (unusual explicit pads).
 */
function singleChannelInputGradient(s: KernelScope, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo | undefined {
  const top = g.filterHeight - 1 - g.padTop;
  const left = g.filterWidth - 1 - g.padLeft;
  const bottom = g.inHeight + g.filterHeight - 1 - g.outHeight - top;
  const right = g.inWidth + g.filterWidth - 1 - g.outWidth - left;
  if (Math.min(top, left, bottom, right) < 0) return undefined;
  const padded = top + bottom + left + right === 0 ? dy : zeroPad(s, dy, { top, bottom, left, right });
  const shape = { batch: g.batch, inHeight: g.inHeight + g.filterHeight - 1, inWidth: g.inWidth + g.filterWidth - 1, outHeight: g.inHeight, outWidth: g.inWidth };
  return singleChannelConv(s, padded, filter, shape, inputGradientTaps(g.filterHeight, g.filterWidth));
}

/** dx = sum over each patch's gradient row, placed where forward read the patch. */
function byPatchGradients(s: KernelScope, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const k = g.filterHeight * g.filterWidth * g.inChannels;
  const m = g.batch * g.outHeight * g.outWidth;
  const co = g.outChannels;
  // [k, co] -> [co, k]: the filter as the product's right operand.
  const wT = s.run('Transpose', { x: s.reshape(filter, [k, co]) }, { perm: [1, 0] });
  const patches = s.run(
    'BatchMatMul',
    { a: s.reshape(dy, [1, m, co]), b: s.reshape(wT, [1, co, k]) },
    { transposeA: false, transposeB: false },
  );
  return addPatchGradients(s, patches, g);
}

/** w [kh, kw, cin, cout] -> w reversed in space, [kh, kw, cout, cin]. */
function flippedFilter(s: KernelScope, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const kh = g.filterHeight;
  const kw = g.filterWidth;
  const ci = g.inChannels;
  const co = g.outChannels;
  const out = s.alloc([kh, kw, co, ci]);
  const src = s.view(filter);
  const dst = s.view(out);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const from = ((kh - 1 - i) * kw + (kw - 1 - j)) * ci * co;
      const to = (i * kw + j) * co * ci;
      for (let c = 0; c < ci; c++) {
        for (let o = 0; o < co; o++) dst[to + o * ci + c] = src[from + c * co + o]!;
      }
    }
  }
  return out;
}

/**
 * dy placed on a zero canvas [N, H + kh - 1, W + kw - 1, O] at p*stride + padTop (pixels that
 * fall outside, possible with unusual explicit padding, touch no input and are dropped).
 */
function spreadPadded(
  s: KernelScope,
  dy: TensorInfo,
  g: ConvGeometry,
  padTop: number,
  padLeft: number,
): TensorInfo {
  const ch = g.inHeight + g.filterHeight - 1;
  const cw = g.inWidth + g.filterWidth - 1;
  const co = g.outChannels;
  const out = s.alloc([g.batch, ch, cw, co]);
  const src = s.view(dy);
  const dst = s.view(out);
  dst.fill(0);
  for (let n = 0; n < g.batch; n++) {
    for (let p = 0; p < g.outHeight; p++) {
      const row = p * g.strideHeight + padTop;
      if (row < 0 || row >= ch) continue;
      for (let q = 0; q < g.outWidth; q++) {
        const col = q * g.strideWidth + padLeft;
        if (col < 0 || col >= cw) continue;
        const from = ((n * g.outHeight + p) * g.outWidth + q) * co;
        const to = ((n * ch + row) * cw + col) * co;
        for (let o = 0; o < co; o++) dst[to + o] = src[from + o]!;
      }
    }
  }
  return out;
}

export const conv2dBackpropInputConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput as unknown as tf.KernelFunc,
};
