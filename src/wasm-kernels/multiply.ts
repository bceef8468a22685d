// Multiply where one operand has one value per pixel ([..., C] times [..., 1], as the decoupled
// operators scale every channel of a pixel by h(|x|)/|x|, and their gradients): a generated
// SIMD loop (one splat per pixel). The backend's broadcasting path computes an index per
// element and measured about three times slower; every other Multiply goes to it.
import { tf } from '../tf.js';
import { WasmFunction } from './codegen/emitter.js';
import { generatedKernels, heapAddress } from './codegen/heap-module.js';
import { builtInKernel, withScope, type KernelArgs, type TensorInfo } from './wasm-backend.js';

/** [full, perPixel] when one operand is the other's shape with a last axis of 1 (float32, channels in fours). */
export function pixelScaling(a: TensorInfo, b: TensorInfo): [TensorInfo, TensorInfo] | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length !== b.shape.length) return undefined;
  const rank = a.shape.length;
  if (rank < 2 || a.shape.slice(0, -1).some((d, i) => d !== b.shape[i])) return undefined;
  const [ca, cb] = [a.shape[rank - 1]!, b.shape[rank - 1]!];
  if (cb === 1 && ca % 4 === 0 && ca > 1) return [a, b];
  if (ca === 1 && cb % 4 === 0 && cb > 1) return [b, a];
  return undefined;
}

function multiply(args: KernelArgs<{ a: TensorInfo; b: TensorInfo }>): TensorInfo {
  const { a, b } = args.inputs;
  const operands = pixelScaling(a, b);
  if (!operands) return builtInKernel('Multiply')(args as never) as TensorInfo;
  const [full, perPixel] = operands;
  const channels = full.shape[full.shape.length - 1]!;
  const pixels = perPixel.shape.reduce((x, y) => x * y, 1);
  return withScope(args.backend, (s) => {
    const out = s.alloc([...full.shape]);
    const kernel = generatedKernels(s.backend, `scalePixels/${channels}`, () => [emitScalePixels(channels)]);
    const at = (t: TensorInfo) => heapAddress(s.backend, t);
    kernel.scalePixels!(at(full), at(perPixel), at(out), pixels);
    return out;
  });
}

/** scalePixels(x, s, y, pixels): y[p, c] = x[p, c] * s[p], `channels` a multiple of 4. */
function emitScalePixels(channels: number): WasmFunction {
  const f = new WasmFunction('scalePixels', 4);
  const [x, scale, y, pixels] = [f.param(0), f.param(1), f.param(2), f.param(3)];
  const [p, v, xAt, yAt, sAt] = f.locals('i32', 5);
  const splat = f.local('v128');
  f.get(x).set(xAt).get(y).set(yAt).get(scale).set(sAt);
  f.repeat(p, pixels, () => {
    f.get(sAt).f32x4LoadSplat().set(splat);
    f.repeat(v, channels / 4, () => {
      f.get(yAt).get(xAt).v128Load().get(splat).f32x4Mul().v128Store();
      f.addTo(xAt, 16).addTo(yAt, 16);
    });
    f.addTo(sAt, 4);
  });
  return f;
}

export const multiplyConfig: tf.KernelConfig = {
  kernelName: 'Multiply',
  backendName: 'wasm',
  kernelFunc: multiply as unknown as tf.KernelFunc,
};
