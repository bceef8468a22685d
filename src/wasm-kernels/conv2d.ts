// The forward 2-D convolution: convolve() picks the generated direct kernel where it applies
// (see direct-conv2d.ts), otherwise the backend's own XNNPACK convolution; dilated ones go
// straight to the backend's kernel.
import { tf } from '../tf.js';
import { convolve } from './direct-conv2d.js';
import { builtInKernel, requireChannelsLast, withScope, type KernelArgs, type TensorInfo } from './wasm-backend.js';

interface Attrs {
  strides: number | [number, number];
  pad: unknown;
  dataFormat?: string;
  dilations?: number | [number, number];
  dimRoundingMode?: unknown;
}

function conv2d(args: KernelArgs<{ x: TensorInfo; filter: TensorInfo }, Attrs>): TensorInfo {
  const { x, filter } = args.inputs;
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = args.attrs;
  requireChannelsLast('Conv2D', dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    strides,
    dilations ?? 1,
    pad as 'same',
    dimRoundingMode as 'floor' | undefined,
  );
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    return builtInKernel('Conv2D')(args as never) as TensorInfo;
  }
  const { top, bottom, left, right } = info.padInfo;
  return withScope(args.backend, (s) =>
    convolve(s, x, filter, { top, bottom, left, right }, [info.strideHeight, info.strideWidth], {
      height: info.outHeight,
      width: info.outWidth,
    }),
  );
}

export const conv2dConfig: tf.KernelConfig = {
  kernelName: 'Conv2D',
  backendName: 'wasm',
  kernelFunc: conv2d as unknown as tf.KernelFunc,
};
