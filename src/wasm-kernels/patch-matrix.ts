// The patch matrix of a convolution with few input channels, in generated wasm specialised on
// the layer's geometry: its transpose gathered from x (for dW = patches^T dy) and the
// scatter-add of patch gradients back onto an image (for dX, from dy W^T). Row m of the
// patch matrix is output pixel (n, p, q); column (i, j, c) is x[n, p*sh - padTop + i,
// q*sw - padLeft + j, c], zero outside the image.
import { WasmFunction, type Local } from './codegen/emitter.js';
import { generatedKernels, heapAddress, shapeKey } from './codegen/heap-module.js';
import { validRange, type ConvGeometry } from './conv-geometry.js';
import type { KernelScope, TensorInfo } from './wasm-backend.js';

/** [1, kh*kw*C, N*OH*OW]: the transposed patch matrix of x. */
export function transposedPatchMatrix(s: KernelScope, x: TensorInfo, g: ConvGeometry): TensorInfo {
  const m = g.batch * g.outHeight * g.outWidth;
  const out = s.alloc([1, g.filterHeight * g.filterWidth * g.inChannels, m]);
  s.view(out).fill(0); // positions outside the image stay zero
  const kernel = generatedKernels(s.backend, shapeKey('patchesT', g), () => [emitTransposedPatches(g)]);
  kernel.patchesT!(heapAddress(s.backend, x), heapAddress(s.backend, out), g.batch);
  return out;
}

/** dx [N, H, W, C] = the sum of each patch's gradient row (patches [N*OH*OW, kh*kw*C]). */
export function addPatchGradients(s: KernelScope, patches: TensorInfo, g: ConvGeometry): TensorInfo {
  const out = s.alloc([g.batch, g.inHeight, g.inWidth, g.inChannels]);
  s.view(out).fill(0);
  const kernel = generatedKernels(s.backend, shapeKey('patchGrads', g), () => [emitPatchGradients(g)]);
  kernel.patchGrads!(heapAddress(s.backend, patches), heapAddress(s.backend, out), g.batch);
  return out;
}

/** Pushes `(unsigned) local + add < limit`: one comparison tests 0 <= v < limit. */
function pushInside(f: WasmFunction, local: Local, add: number, limit: number): void {
  f.get(local).i32(add).add().i32(limit).ltU();
}

/** patchesT(x, out, images): row (i, j, c) of out gets x's values at tap (i, j), channel c. */
function emitTransposedPatches(g: ConvGeometry): WasmFunction {
  const f = new WasmFunction('patchesT', 3);
  const [x, out, images] = [f.param(0), f.param(1), f.param(2)];
  const [n, p, q, row, dst, src, imageRow] = f.locals('i32', 7);
  const { inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow } = g;
  f.get(out).set(dst);
  for (let i = 0; i < g.filterHeight; i++) {
    for (let j = 0; j < g.filterWidth; j++) {
      const [first, end] = validRange(g.outWidth, g.inWidth, g.strideWidth, g.padLeft, j);
      for (let c = 0; c < ci; c++) {
        f.repeat(n, images, () => {
          f.repeat(p, oh, () => {
            // row = p*sh - padTop + i; imageRow = n*h + row
            f.get(p).i32(g.strideHeight).mul().i32(i - g.padTop).add().set(row);
            pushInside(f, row, 0, h);
            f.ifThen(() => {
              f.get(n).i32(h).mul().get(row).add().set(imageRow);
              // src = x + ((imageRow*w + first*sw - padLeft + j)*ci + c)*4
              f.get(x).get(imageRow).i32(w).mul().i32(first * g.strideWidth - g.padLeft + j).add().i32(ci * 4).mul().add();
              f.i32(c * 4).add().set(src);
              f.repeat(q, end - first, () => {
                f.get(dst).get(q).i32(4).mul().add().get(src).f32Load().f32Store(first * 4);
                f.addTo(src, g.strideWidth * ci * 4);
              });
            });
            f.addTo(dst, ow * 4);
          });
        });
      }
    }
  }
  return f;
}

/** patchGrads(patches, dx, images): dx[n, r, col, c] += patches[(n, p, q), (i, j, c)]. */
function emitPatchGradients(g: ConvGeometry): WasmFunction {
  const f = new WasmFunction('patchGrads', 3);
  const [patches, dx, images] = [f.param(0), f.param(1), f.param(2)];
  const [n, p, q, top, left, base, src, at] = f.locals('i32', 8);
  const { inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow } = g;
  const { filterHeight: kh, filterWidth: kw } = g;
  f.get(patches).set(src);
  f.repeat(n, images, () => {
    f.repeat(p, oh, () => {
      f.get(p).i32(g.strideHeight).mul().i32(-g.padTop).add().set(top);
      f.repeat(q, ow, () => {
        f.get(q).i32(g.strideWidth).mul().i32(-g.padLeft).add().set(left);
        // base = dx + ((n*h + top)*w + left)*ci*4: the patch's corner (may lie outside).
        f.get(dx).get(n).i32(h).mul().get(top).add().i32(w).mul().get(left).add().i32(ci * 4).mul().add().set(base);
        for (let i = 0; i < kh; i++) {
          pushInside(f, top, i, h);
          f.ifThen(() => {
            for (let j = 0; j < kw; j++) {
              pushInside(f, left, j, w);
              f.ifThen(() => {
                f.get(base).i32((i * w + j) * ci * 4).add().set(at);
                for (let c = 0; c < ci; c++) {
                  f.get(at).get(at).f32Load(c * 4).get(src).f32Load(((i * kw + j) * ci + c) * 4).f32Add().f32Store(c * 4);
                }
              });
            }
          });
        }
        f.addTo(src, kh * kw * ci * 4);
      });
    });
  });
  return f;
}
