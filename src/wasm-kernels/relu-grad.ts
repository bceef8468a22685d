// The ReLU gradient dy * step(x) in one pass. TF.js computes it as Multiply(dy, Cast(Step(x))):
// a full-size Step written and read again (Cast is an alias here). Same values as that
// composition, NaN included: step(NaN) is NaN, and dy * 0 keeps dy's NaN/Infinity.
import { tf } from '../tf.js';
import { WasmFunction } from './codegen/emitter.js';
import { generatedKernels, heapAddress } from './codegen/heap-module.js';
import { withScope, type KernelArgs, type TensorInfo } from './wasm-backend.js';

/** The kernel's name (the project's own: TF.js has none for this). */
export const RELU_GRAD = 'DcnetReluGrad';

/** Whether the kernel takes these operands: float32, same shape, a multiple of 4 values. */
export function reluGradApplies(dy: TensorInfo, x: TensorInfo): boolean {
  const size = x.shape.reduce((a, b) => a * b, 1);
  return dy.dtype === 'float32' && x.dtype === 'float32' && size % 4 === 0 && tf.util.arraysEqual(dy.shape, x.shape);
}

function reluGrad(args: KernelArgs<{ dy: TensorInfo; x: TensorInfo }>): TensorInfo {
  const { dy, x } = args.inputs;
  if (!reluGradApplies(dy, x)) throw new Error(`${RELU_GRAD}: needs float32 dy and x of one shape with a multiple of 4 values`);
  return withScope(args.backend, (s) => {
    const out = s.alloc([...x.shape]);
    const kernel = generatedKernels(s.backend, 'reluGrad', () => [emitReluGrad()]);
    const at = (t: TensorInfo) => heapAddress(s.backend, t);
    kernel.reluGrad!(at(dy), at(x), at(out), x.shape.reduce((a, b) => a * b, 1) / 4);
    return out;
  });
}

/** reluGrad(dy, x, dx, vectors): dx = dy * (x > 0 ? 1 : 0), or * NaN where x is NaN. */
function emitReluGrad(): WasmFunction {
  const f = new WasmFunction('reluGrad', 4);
  const [dy, x, dx, vectors] = [f.param(0), f.param(1), f.param(2), f.param(3)];
  const [i, offset] = f.locals('i32', 2);
  const [xv, step] = f.locals('v128', 2);
  f.repeat(i, vectors, () => {
    f.get(i).i32(16).mul().set(offset);
    f.get(x).get(offset).add().v128Load().set(xv);
    // step = 1.0 where x > 0, else 0.0; then x itself (NaN) where x != x.
    f.f32x4Const(1).get(xv).f32x4Const(0).f32x4Gt().v128And().set(step);
    f.get(xv).get(step).get(xv).get(xv).f32x4Ne().v128Bitselect().set(step);
    f.get(dx).get(offset).add();
    f.get(dy).get(offset).add().v128Load().get(step).f32x4Mul().v128Store();
  });
  return f;
}

export const reluGradConfig: tf.KernelConfig = {
  kernelName: RELU_GRAD,
  backendName: 'wasm',
  kernelFunc: reluGrad as unknown as tf.KernelFunc,
};
