// The inner step shared by the direct convolution, its filter gradient and perf's SIMD
// ceiling (which times exactly this sequence): a register block of mr scalars x nv f32x4
// vectors, each accumulator += scalar * vector (f32x4 mul then add: no fused multiply-add in
// 128-bit wasm SIMD).
import type { Local, WasmFunction } from './emitter.js';

/** The block's registers: mr*nv accumulators, one broadcast scalar, nv vectors. */
export interface RegisterBlock {
  mr: number;
  nv: number;
  acc: Local[];
  a: Local;
  b: Local[];
}

/**
 * Output-channel vectors per register block: 4 (16 channels) where they divide the channels,
 * else 2 or 1; undefined unless the channels come in fours. Shared by the kernels built on
 * this block (the direct convolution, its filter gradient, the Winograd products).
 */
export function vectorsPerBlock(outChannels: number): number | undefined {
  if (outChannels % 4 !== 0) return undefined;
  return [4, 2, 1].find((nv) => (outChannels / 4) % nv === 0);
}

export function registerBlock(f: WasmFunction, mr: number, nv: number): RegisterBlock {
  return { mr, nv, acc: f.locals('v128', mr * nv), a: f.local('v128'), b: f.locals('v128', nv) };
}

/**
 * Loads nv vectors from `vectorsAt` (16 bytes apart) and, for each r < mr, broadcasts the f32
 * at `scalarsAt + r * scalarStride`: acc[r*nv + v] += scalar_r * vector_v.
 */
export function multiplyAccumulate(f: WasmFunction, blk: RegisterBlock, vectorsAt: Local, scalarsAt: Local, scalarStride: number): void {
  for (let v = 0; v < blk.nv; v++) f.get(vectorsAt).v128Load(v * 16).set(blk.b[v]!);
  for (let r = 0; r < blk.mr; r++) {
    f.get(scalarsAt).f32x4LoadSplat(r * scalarStride).set(blk.a);
    for (let v = 0; v < blk.nv; v++) {
      const k = blk.acc[r * blk.nv + v]!;
      f.get(k).get(blk.a).get(blk.b[v]!).f32x4Mul().f32x4Add().set(k);
    }
  }
}
