// A 2-D convolution (NHWC, filter [kh, kw, C, O]) computed directly in generated wasm,
// specialised on the layer's shapes: measured faster than the backend's XNNPACK convolution on
// small-cnn's second layer (27 vs 40 ms, batch 128). The input arrives padded, so every tap of
// every output pixel is inside it. A register block of MR output pixels x 4*NV output
// channels accumulates over the filter rows (unrolled) and, per row, its taps and input
// channels (one loop: unrolling it made V8's code several times slower). Loop order: image,
// output-channel block (its packed filter slice stays in L1), row, pixels.
import { WasmFunction, type Local } from './codegen/emitter.js';
import { multiplyAccumulate, registerBlock, vectorsPerBlock } from './codegen/register-block.js';
import { generatedKernels, heapAddress, shapeKey } from './codegen/heap-module.js';
import { explicitPad, type ConvGeometry } from './conv-geometry.js';
import { forwardTaps, singleChannelApplies, singleChannelConv } from './single-channel-conv.js';
import { zeroPad } from './zero-pad.js';
import { optInKernelOn } from './optional.js';
import { winogradApplies, winogradConv2d } from './winograd-conv2d.js';
import type { KernelScope, TensorInfo } from './wasm-backend.js';

/** A valid convolution over an already padded input (inHeight/inWidth: the padded size). */
export type DirectConvShape = Omit<ConvGeometry, 'padTop' | 'padLeft'>;

/** Output pixels per register block (2 x 16 channels measured best of 1-4 x 4-16). */
const MR = 2;

/**
 * Whether the direct kernel handles this convolution: output channels in fours. Any number of
 * input channels: with 1-3 (a first layer) it measured 2-3.5x faster than XNNPACK (small-cnn's
 * first layer, batch 128: 1.9 vs 5.4-6.9 ms), and it adds the taps in XNNPACK's order (filter
 * row, column, channel, from zero), so the floats are XNNPACK's bit for bit.
 */
export function directConvApplies(outChannels: number): boolean {
  return vectorsPerBlock(outChannels) !== undefined;
}

/** y [N, OH, OW, O] of a valid, undilated convolution of the padded input. */
export function directConv2d(s: KernelScope, xPadded: TensorInfo, filter: TensorInfo, shape: DirectConvShape): TensorInfo {
  const nv = vectorsPerBlock(shape.outChannels);
  if (nv === undefined) throw new Error('directConv2d: output channels must be a multiple of 4');
  const packed = packFilter(s, filter, 4 * nv);
  const y = s.alloc([shape.batch, shape.outHeight, shape.outWidth, shape.outChannels]);
  const kernel = generatedKernels(s.backend, shapeKey('conv', shape), () => [emitDirectConv(shape, nv)]);
  const at = (t: TensorInfo) => heapAddress(s.backend, t);
  kernel.conv!(at(xPadded), at(packed), at(y), shape.batch);
  return y;
}

/**
 * [kh, kw, C, O] -> [O / width, kh*kw*C, width]: each output-channel block's filter slice
 * contiguous (in the original layout its rows lie O*4 bytes apart, which thrashed a few L1
 * cache sets).
 */
function packFilter(s: KernelScope, filter: TensorInfo, width: number): TensorInfo {
  const o = filter.shape[3]!;
  const rows = filter.shape[0]! * filter.shape[1]! * filter.shape[2]!;
  const out = s.alloc([o / width, rows, width]);
  const src = s.view(filter);
  const dst = s.view(out);
  let at = 0;
  for (let block = 0; block < o; block += width) {
    for (let r = 0; r < rows; r++, at += width) dst.set(src.subarray(r * o + block, r * o + block + width), at);
  }
  return out;
}

/** conv(x, w, y, images). */
function emitDirectConv(shape: DirectConvShape, nv: number): WasmFunction {
  const f = new WasmFunction('conv', 4);
  const [x, w, y, images] = [f.param(0), f.param(1), f.param(2), f.param(3)];
  const { inHeight: hp, inWidth: wp, inChannels: c, outHeight: oh, outWidth: ow, outChannels: o } = shape;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = shape;
  const [n, ob, p, qq, ch, xRow, yRow, wBlock, xAt, yAt, xc, wc] = f.locals('i32', 12);
  const block = registerBlock(f, MR, nv);
  const acc = block.acc;
  const xPixel = c * 4;
  const yPixel = o * 4;

  /** `count` register blocks of `mr` pixels starting at output column q0. */
  const pixels = (mr: number, count: number, q0: number, counter: Local) => {
    f.repeat(counter, count, () => {
      f.get(counter).i32(mr * sw * xPixel).mul().get(xRow).add().i32(q0 * sw * xPixel).add().set(xAt);
      f.get(counter).i32(mr * yPixel).mul().get(yRow).add().i32(q0 * yPixel).add().set(yAt);
      for (let k = 0; k < mr * nv; k++) f.f32x4Const(0).set(acc[k]!);
      for (let i = 0; i < kh; i++) {
        // A filter row's taps and channels, (j, c), are contiguous in x and in the packed
        // filter: one loop of kw*c steps per row.
        f.get(xAt).i32(i * wp * xPixel).add().set(xc);
        f.get(wBlock).i32(i * kw * c * nv * 16).add().set(wc);
        f.repeat(ch, kw * c, () => {
          multiplyAccumulate(f, { ...block, mr }, wc, xc, sw * xPixel);
          f.addTo(xc, 4).addTo(wc, nv * 16);
        });
      }
      for (let r = 0; r < mr; r++) {
        for (let v = 0; v < nv; v++) f.get(yAt).get(acc[r * nv + v]!).v128Store(r * yPixel + v * 16);
      }
    });
  };

  f.repeat(n, images, () => {
    f.repeat(ob, o / (4 * nv), () => {
      f.get(ob).i32(kh * kw * c * nv * 16).mul().get(w).add().set(wBlock);
      f.repeat(p, oh, () => {
        // xRow = x + (n*hp + p*sh)*wp*xPixel; yRow = y + (n*oh + p)*ow*yPixel + ob*nv*16
        f.get(n).i32(hp * wp * xPixel).mul().get(p).i32(sh * wp * xPixel).mul().add().get(x).add().set(xRow);
        f.get(n).i32(oh * ow * yPixel).mul().get(p).i32(ow * yPixel).mul().add().get(y).add();
        f.get(ob).i32(nv * 16).mul().add().set(yRow);
        pixels(MR, Math.floor(ow / MR), 0, qq);
        if (ow % MR !== 0) pixels(1, ow % MR, ow - (ow % MR), qq);
      });
    });
  });
  return f;
}

export interface Padding {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/**
 * An undilated convolution with explicit padding: the direct kernel (on a zero-padded copy,
 * made only when some pad is non-zero) where it applies, the single-channel kernel for one
 * input and one output channel at stride 1 (filter sizes whose order it knows), else the
 * backend's XNNPACK convolution (which pads implicitly).
 */
export function convolve(
  s: KernelScope,
  x: TensorInfo,
  filter: TensorInfo,
  pad: Padding,
  strides: [number, number],
  out: { height: number; width: number },
): TensorInfo {
  const [batch, height, width, inChannels] = x.shape as [number, number, number, number];
  const [filterHeight, filterWidth, , outChannels] = filter.shape as [number, number, number, number];
  const direct = directConvApplies(outChannels);
  const taps = !direct && singleChannelApplies(inChannels, outChannels, strides) ? forwardTaps(filterHeight, filterWidth) : undefined;
  if (!direct && !taps) {
    const paddings = explicitPad(pad.top, pad.bottom, pad.left, pad.right);
    return s.run('Conv2D', { x, filter }, { strides, dilations: [1, 1], pad: paddings, dataFormat: 'NHWC' });
  }
  // The padded copy holds what the output pixels read: pads past that are dropped.
  const bottom = Math.max(0, Math.min(pad.bottom, (out.height - 1) * strides[0] + filterHeight - height - pad.top));
  const right = Math.max(0, Math.min(pad.right, (out.width - 1) * strides[1] + filterWidth - width - pad.left));
  const padded =
    pad.top === 0 && bottom === 0 && pad.left === 0 && right === 0
      ? x
      : zeroPad(s, x, { top: pad.top, bottom, left: pad.left, right });
  const inHeight = height + pad.top + bottom;
  const inWidth = width + pad.left + right;
  if (taps) {
    const shape = { batch, inHeight, inWidth, outHeight: out.height, outWidth: out.width };
    return singleChannelConv(s, padded, filter, shape, taps);
  }
  const shape: DirectConvShape = {
    batch,
    inHeight,
    inWidth,
    inChannels,
    outHeight: out.height,
    outWidth: out.width,
    outChannels,
    filterHeight,
    filterWidth,
    strideHeight: strides[0],
    strideWidth: strides[1],
  };
  return optInKernelOn('winograd') && winogradApplies(shape) ? winogradConv2d(s, padded, filter, shape) : directConv2d(s, padded, filter, shape);
}
