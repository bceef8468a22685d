// Batched matrix product with transposed operands as a product without them: the wasm
// backend's own kernel multiplies at XNNPACK speed only without transposes (with them, about
// ten times slower). Dense layers' gradients (x^T dy and dy W^T) are exactly those products.
// Either the operands are transposed first, or C^T = op(B)^T op(A)^T is computed and
// transposed back, whichever moves fewer numbers. a^T b with few columns (a dense layer's
// weight gradient) has a generated kernel of its own (transposed-product.ts).
import { tf } from '../tf.js';
import { transposedProduct, transposedProductApplies } from './transposed-product.js';
import { withScope, type KernelScope, type KernelArgs, type TensorInfo } from './wasm-backend.js';

interface Attrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** Swaps the last two axes. */
function transposeLast(s: KernelScope, t: TensorInfo): TensorInfo {
  const rank = t.shape.length;
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1]!, perm[rank - 2]!];
  return s.run('Transpose', { x: t }, { perm });
}

function batchMatMul(args: KernelArgs<{ a: TensorInfo; b: TensorInfo }, Attrs>): TensorInfo {
  const { a, b } = args.inputs;
  const { transposeA, transposeB } = args.attrs;
  const plain = { transposeA: false, transposeB: false };
  const size = (t: TensorInfo) => t.shape.reduce((x, y) => x * y, 1);
  const rows = a.shape[a.shape.length - (transposeA ? 1 : 2)]!;
  const cols = b.shape[b.shape.length - (transposeB ? 2 : 1)]!;
  const batchShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = batchShape.reduce((x, y) => x * y, 1);
  // Numbers moved: transposes, plus XNNPACK's packing of the right operand (b, or a swapped).
  const direct = (transposeA ? size(a) : 0) + (transposeB ? size(b) : 0) + size(b);
  const swapped = (transposeA ? 0 : size(a)) + (transposeB ? 0 : size(b)) + batch * rows * cols + size(a);
  return withScope(args.backend, (s) => {
    if (transposeA && !transposeB && transposedProductApplies(a, b)) return transposedProduct(s, a, b);
    if (direct <= swapped) {
      const left = transposeA ? transposeLast(s, a) : a;
      const right = transposeB ? transposeLast(s, b) : b;
      return s.run('BatchMatMul', { a: left, b: right }, plain);
    }
    const left = transposeB ? b : transposeLast(s, b);
    const right = transposeA ? a : transposeLast(s, a);
    return transposeLast(s, s.run('BatchMatMul', { a: left, b: right }, plain));
  });
}

export const batchMatMulConfig: tf.KernelConfig = {
  kernelName: 'BatchMatMul',
  backendName: 'wasm',
  kernelFunc: batchMatMul as unknown as tf.KernelFunc,
};
