// dL/dx of a stride-1 convolution with few input channels (a network's first layer, as in
// every FGSM/PGD step), computed directly in generated wasm:
// dx[n, r, c, k] = sum over taps (i, j) inside dy of <dy[n, r + padTop - i, c + padLeft - j, :], w[i, j, k, :]>.
// Each image pixel sums its taps' dot products over the output channels, four vectors at a
// time in independent accumulators (so additions do not wait on each other), and one
// horizontal sum at the end. Replaces a matrix product whose 9 output columns XNNPACK pads
// to 16, plus the scatter of patch gradients.
import { WasmFunction } from './codegen/emitter.js';
import { generatedKernels, heapAddress, shapeKey } from './codegen/heap-module.js';
import { PATCH_MATRIX_MAX_CHANNELS, type ConvGeometry } from './conv-geometry.js';
import type { KernelScope, TensorInfo } from './wasm-backend.js';

export function directInputGradientApplies(g: ConvGeometry): boolean {
  return (
    g.strideHeight === 1 &&
    g.strideWidth === 1 &&
    g.inChannels <= PATCH_MATRIX_MAX_CHANNELS &&
    g.outChannels % 4 === 0
  );
}

export function directInputGradient(s: KernelScope, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const out = s.alloc([g.batch, g.inHeight, g.inWidth, g.inChannels]);
  const kernel = generatedKernels(s.backend, shapeKey('inputGrad', g), () => [emitInputGradient(g)]);
  kernel.inputGrad!(heapAddress(s.backend, dy), heapAddress(s.backend, filter), heapAddress(s.backend, out), g.batch);
  return out;
}

/** inputGrad(dy, w, dx, images). */
function emitInputGradient(g: ConvGeometry): WasmFunction {
  const f = new WasmFunction('inputGrad', 4);
  const [dy, w, dx, images] = [f.param(0), f.param(1), f.param(2), f.param(3)];
  const [n, r, c, dyRow, dyAt, dxAt, row, col] = f.locals('i32', 8);
  const { inHeight: h, inWidth: wd, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = g;
  const { filterHeight: kh, filterWidth: kw } = g;
  // Accumulators per input channel: 4 with one or two channels, 2 with three or four.
  const lanes = ci <= 2 ? 4 : 2;
  const acc = f.locals('v128', ci * lanes);
  const d = f.local('v128');
  const vectors = co / 4;
  f.get(dx).set(dxAt);
  f.repeat(n, images, () => {
    f.repeat(r, h, () => {
      f.repeat(c, wd, () => {
        for (const a of acc) f.f32x4Const(0).set(a);
        let turn = 0;
        for (let i = 0; i < kh; i++) {
          // row = r + padTop - i, inside [0, oh)?
          f.get(r).i32(g.padTop - i).add().tee(row).i32(oh).ltU();
          f.ifThen(() => {
            f.get(n).i32(oh).mul().get(row).add().i32(ow * co * 4).mul().get(dy).add().set(dyRow);
            for (let j = 0; j < kw; j++) {
              f.get(c).i32(g.padLeft - j).add().tee(col).i32(ow).ltU();
              f.ifThen(() => {
                f.get(col).i32(co * 4).mul().get(dyRow).add().set(dyAt);
                for (let v = 0; v < vectors; v++) {
                  f.get(dyAt).v128Load(v * 16).set(d);
                  const lane = turn++ % lanes;
                  for (let k = 0; k < ci; k++) {
                    const a = acc[k * lanes + lane]!;
                    f.get(a).get(d).get(w).v128Load((((i * kw + j) * ci + k) * co + 4 * v) * 4).f32x4Mul().f32x4Add().set(a);
                  }
                }
              });
            }
          });
        }
        for (let k = 0; k < ci; k++) {
          // dx = horizontal sum of the channel's accumulators.
          const first = acc[k * lanes]!;
          for (let l = 1; l < lanes; l++) f.get(first).get(acc[k * lanes + l]!).f32x4Add().set(first);
          f.get(dxAt);
          f.get(first).f32x4ExtractLane(0).get(first).f32x4ExtractLane(1).f32Add();
          f.get(first).f32x4ExtractLane(2).f32Add().get(first).f32x4ExtractLane(3).f32Add();
          f.f32Store(k * 4);
        }
        f.addTo(dxAt, ci * 4);
      });
    });
  });
  return f;
}
