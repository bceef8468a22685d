// dW[i, j, c, o] = sum over images n and output pixels (p, q) of
// x[n, p*sh - padTop + i, q*sw - padLeft + j, c] * dy[n, p, q, o], computed directly in
// generated wasm: no patch matrix, no transposes, and nothing for XNNPACK to pack (packing a
// fresh operand cost more than the product: 17 ms of 21 for small-cnn's first layer).
// Image by image (its x and dy stay in cache), tap by tap; a register block of MR input
// channels x 4*NV output channels accumulates over the tap's valid pixels.
import { WasmFunction } from './codegen/emitter.js';
import { multiplyAccumulate, registerBlock, vectorsPerBlock } from './codegen/register-block.js';
import { generatedKernels, heapAddress, shapeKey } from './codegen/heap-module.js';
import { validRange, type ConvGeometry } from './conv-geometry.js';
import type { KernelScope, TensorInfo } from './wasm-backend.js';

/** Register block: accumulators = MR * NV vectors (x64 has 16 SIMD registers). */
interface Block {
  mr: number;
  nv: number;
}

function chooseBlock(g: ConvGeometry): Block | undefined {
  const nv = vectorsPerBlock(g.outChannels);
  if (nv === undefined) return undefined;
  // Measured on small-cnn: 2 x 16 beats 4 x 8 (31 vs 37 ms for its second layer); with one
  // input channel 1 x 16 beats 1 x 32 (3.1 vs 4.1 ms for its first layer: 8 accumulators, 8
  // vectors and the broadcast are more than the 16 SIMD registers).
  for (const mr of [2, 1]) {
    if (g.inChannels % mr === 0) return { mr, nv };
  }
  return undefined;
}

/** Whether the direct kernel handles this geometry (output channels in fours). */
export function directFilterGradientApplies(g: ConvGeometry): boolean {
  return chooseBlock(g) !== undefined;
}

export function directFilterGradient(s: KernelScope, x: TensorInfo, dy: TensorInfo, g: ConvGeometry, filterShape: number[]): TensorInfo {
  const block = chooseBlock(g);
  if (!block) throw new Error('directFilterGradient: output channels must be a multiple of 4');
  const out = s.alloc([...filterShape]);
  s.view(out).fill(0);
  const kernel = generatedKernels(s.backend, shapeKey('filterGrad', g), () => [emitFilterGradient(g, block)]);
  kernel.filterGrad!(heapAddress(s.backend, x), heapAddress(s.backend, dy), heapAddress(s.backend, out), g.batch);
  return out;
}

/** filterGrad(x, dy, dW, images), dW zeroed by the caller. */
function emitFilterGradient(g: ConvGeometry, { mr, nv }: Block): WasmFunction {
  const f = new WasmFunction('filterGrad', 4);
  const [x, dy, dw, images] = [f.param(0), f.param(1), f.param(2), f.param(3)];
  const [n, cb, ob, p, q, xImage, dyImage, xAt, dyAt, wAt] = f.locals('i32', 10);
  const block = registerBlock(f, mr, nv);
  const acc = block.acc;
  const { inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = g;
  const xPixel = ci * 4;
  const dyPixel = co * 4;
  f.repeat(n, images, () => {
    f.get(x).get(n).i32(h * w * xPixel).mul().add().set(xImage);
    f.get(dy).get(n).i32(oh * ow * dyPixel).mul().add().set(dyImage);
    for (let i = 0; i < g.filterHeight; i++) {
      const [p0, p1] = validRange(oh, h, g.strideHeight, g.padTop, i);
      for (let j = 0; j < g.filterWidth; j++) {
        const [q0, q1] = validRange(ow, w, g.strideWidth, g.padLeft, j);
        if (p0 >= p1 || q0 >= q1) continue;
        const tap = i * g.filterWidth + j;
        f.repeat(cb, ci / mr, () => {
          f.repeat(ob, co / (4 * nv), () => {
            // wAt = dW + ((tap*ci + cb*mr)*co + ob*4nv)*4
            f.get(dw).get(cb).i32(mr * co * 4).mul().add().get(ob).i32(nv * 16).mul().add().set(wAt);
            const wOffset = (r: number, v: number) => ((tap * ci + r) * co + 4 * v) * 4;
            for (let r = 0; r < mr; r++) for (let v = 0; v < nv; v++) f.get(wAt).v128Load(wOffset(r, v)).set(acc[r * nv + v]!);
            f.repeat(p, p1 - p0, () => {
              // xAt = xImage + (((p0+p)*sh - padTop + i)*w + q0*sw - padLeft + j)*xPixel + cb*mr*4
              f.get(p).i32(g.strideHeight * w * xPixel).mul().get(xImage).add();
              f.i32((((p0 * g.strideHeight - g.padTop + i) * w) + q0 * g.strideWidth - g.padLeft + j) * xPixel).add();
              f.get(cb).i32(mr * 4).mul().add().set(xAt);
              // dyAt = dyImage + ((p0+p)*ow + q0)*dyPixel + ob*nv*16
              f.get(p).i32(ow * dyPixel).mul().get(dyImage).add().i32((p0 * ow + q0) * dyPixel).add();
              f.get(ob).i32(nv * 16).mul().add().set(dyAt);
              f.repeat(q, q1 - q0, () => {
                multiplyAccumulate(f, block, dyAt, xAt, 4);
                f.addTo(xAt, g.strideWidth * xPixel).addTo(dyAt, dyPixel);
              });
            });
            for (let r = 0; r < mr; r++) for (let v = 0; v < nv; v++) f.get(wAt).get(acc[r * nv + v]!).v128Store(wOffset(r, v));
          });
        });
      }
    }
  });
  return f;
}
