// Convolution geometry shared by the gradient kernels: TF.js's own shape and padding rules.
import { tf } from '../tf.js';

/** The attributes TF.js passes to both convolution-gradient kernels. */
export interface ConvGradAttrs {
  strides: number | [number, number];
  pad: unknown;
  dataFormat?: string;
  dimRoundingMode?: unknown;
}

export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

export function convGeometry(
  xShape: number[],
  filterShape: number[],
  strides: number | [number, number],
  pad: unknown,
  dimRoundingMode?: unknown,
): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad as 'same',
    dimRoundingMode as 'floor' | undefined,
  );
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/**
 * Up to this many input channels, gradients go through the patch matrix (kh*kw*C columns)
 * and a matrix product instead of a convolution. For dW the product measured about as fast
 * as the convolution or faster on small-cnn's first layer (each copies dy once: as the
 * product's right operand or as the convolution's filter); for dX the convolution would have
 * C output channels, which XNNPACK pads to its tile width.
 */
export const PATCH_MATRIX_MAX_CHANNELS = 4;

/** Explicit NHWC padding attribute for the wasm Conv2D kernel. */
export function explicitPad(top: number, bottom: number, left: number, right: number): number[][] {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

/**
 * Output indices whose input index (out*stride - pad + tap) lies inside [0, inSize): the
 * range [first, end) (empty when first >= end).
 */
export function validRange(outSize: number, inSize: number, stride: number, pad: number, tap: number): [number, number] {
  const first = Math.max(0, Math.ceil((pad - tap) / stride));
  const end = Math.min(outSize, Math.floor((inSize - 1 + pad - tap) / stride) + 1);
  return [first, Math.max(first, end)];
}
