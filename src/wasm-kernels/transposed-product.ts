// a^T b for b with few columns: out[m, n] = sum_k a[k, m] b[k, n], a [K, M], b [K, N]. A dense
// layer's weight gradient is exactly this (x^T dy: small-cnn's is [3136 x 128] x [128 x 10]);
// the other path transposed all of x first and XNNPACK then multiplied by a 10-column operand,
// about 2 ms for 8 MFLOP. Here four rows of the result at a time accumulate in N registers
// (one vector of a times each broadcast b[k, n]) while a streams through once.
import { WasmFunction } from './codegen/emitter.js';
import { generatedKernels, heapAddress, shapeKey } from './codegen/heap-module.js';
import { optionalKernelOn } from './optional.js';
import type { KernelScope, TensorInfo } from './wasm-backend.js';

/** Accumulators: one per column; x64 has 16 SIMD registers (plus a's vector and a splat). */
export const MAX_COLUMNS = 12;

/** Whether a^T b (a [..., K, M], b [..., K, N], same batch shape) runs here. */
export function transposedProductApplies(a: TensorInfo, b: TensorInfo): boolean {
  if (!optionalKernelOn('transposedProduct')) return false;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length !== b.shape.length) return false;
  const rank = a.shape.length;
  if (a.shape.some((d, i) => i < rank - 2 && d !== b.shape[i])) return false;
  const [k, m, n] = [a.shape[rank - 2]!, a.shape[rank - 1]!, b.shape[rank - 1]!];
  return b.shape[rank - 2] === k && m % 4 === 0 && m > 0 && n >= 1 && n <= MAX_COLUMNS && k > 0;
}

export function transposedProduct(s: KernelScope, a: TensorInfo, b: TensorInfo): TensorInfo {
  const rank = a.shape.length;
  const [k, m, n] = [a.shape[rank - 2]!, a.shape[rank - 1]!, b.shape[rank - 1]!];
  const batch = a.shape.slice(0, -2).reduce((x, y) => x * y, 1);
  const out = s.alloc([...a.shape.slice(0, -2), m, n]);
  const kernel = generatedKernels(s.backend, shapeKey('transposedProduct', { m, n }), () => [emitTransposedProduct(m, n)]);
  const [aAt, bAt, outAt] = [a, b, out].map((t) => heapAddress(s.backend, t));
  for (let i = 0; i < batch; i++) kernel.transposedProduct!(aAt! + i * k * m * 4, bAt! + i * k * n * 4, outAt! + i * m * n * 4, k);
  return out;
}

/** transposedProduct(a, b, out, K) for one batch item, M % 4 == 0, N <= MAX_COLUMNS. */
function emitTransposedProduct(m: number, n: number): WasmFunction {
  const f = new WasmFunction('transposedProduct', 4);
  const [a, b, out, k] = [f.param(0), f.param(1), f.param(2), f.param(3)];
  const [block, step, aAt, bAt, outAt] = f.locals('i32', 5);
  const acc = f.locals('v128', n);
  const [av, splat] = f.locals('v128', 2);
  f.get(out).set(outAt);
  f.repeat(block, m / 4, () => {
    // aAt = a + 16 * block: four consecutive result rows.
    f.get(a).get(block).i32(16).mul().add().set(aAt).get(b).set(bAt);
    for (const r of acc) f.f32x4Const(0).set(r);
    f.repeat(step, k, () => {
      f.get(aAt).v128Load().set(av);
      for (let j = 0; j < n; j++) {
        f.get(bAt).f32x4LoadSplat(j * 4).set(splat);
        f.get(acc[j]!).get(av).get(splat).f32x4Mul().f32x4Add().set(acc[j]!);
      }
      f.addTo(aAt, m * 4).addTo(bAt, n * 4);
    });
    // Lane i of acc[j] is out[4 * block + i, j].
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < n; j++) f.get(outAt).get(acc[j]!).f32x4ExtractLane(i).f32Store((i * n + j) * 4);
    }
    f.addTo(outAt, 4 * n * 4);
  });
  return f;
}
