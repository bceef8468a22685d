// A 3x3, stride-1 convolution by Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray, 2016),
// in generated wasm: each 2x2 block of output pixels is computed from a 4x4 input tile with 16
// products per input/output channel pair instead of 36, so the matrix products (16 of them, one
// per position of the transformed tile, [tiles x C] x [C x O]) do 2.25x fewer multiplications
// than the direct kernel; the transforms are additions. It adds in another order than the
// direct kernel (and through transformed values): results differ from it in the last bits, so
// it runs only when asked for (`DCNET_WASM_WITH=winograd`, optional.ts), never under the
// committed models and results.
//
// Tiles are processed in chunks (a chunk's transformed input and products stay in cache):
// transform the chunk's input tiles, 16 matrix products with the register block the direct
// kernel uses, transform back into the output.
import { WasmFunction, type Local } from './codegen/emitter.js';
import { multiplyAccumulate, registerBlock, vectorsPerBlock } from './codegen/register-block.js';
import { generatedKernels, heapAddress, shapeKey } from './codegen/heap-module.js';
import type { DirectConvShape } from './direct-conv2d.js';
import type { KernelScope, TensorInfo } from './wasm-backend.js';

/** Tiles per register block of the products (as the direct kernel's pixels). */
const MR = 2;

/**
 * Whether F(2x2, 3x3) applies: a 3x3 filter at stride 1 over an already padded input, input
 * and output channels in fours (the transforms run on 4 channels at a time) and an even output
 * size (whole 2x2 blocks).
 */
export function winogradApplies(shape: DirectConvShape): boolean {
  return (
    shape.filterHeight === 3 &&
    shape.filterWidth === 3 &&
    shape.strideHeight === 1 &&
    shape.strideWidth === 1 &&
    shape.inChannels % 4 === 0 &&
    shape.outChannels % 4 === 0 &&
    shape.outHeight % 2 === 0 &&
    shape.outWidth % 2 === 0 &&
    shape.outHeight > 0 &&
    shape.outWidth > 0
  );
}

/**
 * Tiles per chunk: 32 measured best or within noise of it from small-cnn's second layer to
 * cnn9's and resnet32's (16-128 tried; fewer re-read the transformed filter more often, more
 * push a chunk's V and M out of cache).
 */
const CHUNK_TILES = 32;

/** y [N, OH, OW, O] of a valid 3x3 stride-1 convolution of the padded input. */
export function winogradConv2d(s: KernelScope, xPadded: TensorInfo, filter: TensorInfo, shape: DirectConvShape): TensorInfo {
  if (!winogradApplies(shape)) throw new Error('winogradConv2d: needs a 3x3 stride-1 filter, channels in fours and an even output size');
  const nv = vectorsPerBlock(shape.outChannels)!;
  const tiles = CHUNK_TILES;
  const u = transformFilter(s, filter, 4 * nv);
  const v = s.alloc([16, tiles + MR, shape.inChannels]);
  const m = s.alloc([16, tiles + MR, shape.outChannels]);
  const y = s.alloc([shape.batch, shape.outHeight, shape.outWidth, shape.outChannels]);
  const kernel = generatedKernels(s.backend, shapeKey('winograd', shape), () => [emitWinograd(shape, nv, tiles)]);
  const at = (t: TensorInfo) => heapAddress(s.backend, t);
  kernel.winograd!(at(xPadded), at(u), at(y), at(v), at(m), shape.batch);
  return y;
}

/**
 * U = G g G^T for each input/output channel pair, G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2,
 * -1/2, 1/2], [0, 0, 1]], laid out [16, O / width, C, width]: position xi's products read one
 * output-channel block's slice contiguously. Generated too (4 output channels at a time): in
 * JavaScript it took 14-40 ms for a 256x256 layer, as long as the convolution.
 */
function transformFilter(s: KernelScope, filter: TensorInfo, width: number): TensorInfo {
  const [, , c, o] = filter.shape as [number, number, number, number];
  const out = s.alloc([16, o / width, c, width]);
  const kernel = generatedKernels(s.backend, shapeKey('winogradFilter', { c, o, width }), () => [emitFilterTransform(c, o, width)]);
  kernel.filterT!(heapAddress(s.backend, filter), heapAddress(s.backend, out));
  return out;
}

/** filterT(g, u): g [3, 3, C, O] -> u (transformFilter's layout). */
function emitFilterTransform(c: number, o: number, width: number): WasmFunction {
  const f = new WasmFunction('filterT', 2);
  const [g, u] = [f.param(0), f.param(1)];
  const [ci, ov, src, dst] = f.locals('i32', 4);
  const taps = f.locals('v128', 9);
  const gg = f.locals('v128', 12); // G g, 4x3
  const half = f.local('v128');
  const perBlock = width / 4;
  /** ((a + b) + d) / 2 or ((a - b) + d) / 2, pushed. */
  const middle = (a: Local, b: Local, d: Local, minus: boolean) => {
    f.get(a).get(b);
    if (minus) f.f32x4Sub();
    else f.f32x4Add();
    f.get(d).f32x4Add().get(half).f32x4Mul();
  };
  f.f32x4Const(0.5).set(half);
  f.repeat(ci, c, () =>
    f.repeat(ov, o / 4, () => {
      f.get(ci).i32(o * 4).mul().get(ov).i32(16).mul().add().get(g).add().set(src);
      for (let k = 0; k < 9; k++) f.get(src).v128Load(k * c * o * 4).set(taps[k]!);
      // dst = u + ((ov / perBlock) * C + ci) * width * 4 + (ov % perBlock) * 16
      f.get(ov).i32(perBlock).divU().i32(c * width * 4).mul().get(ci).i32(width * 4).mul().add();
      f.get(ov).i32(perBlock).remU().i32(16).mul().add().get(u).add().set(dst);
      for (let j = 0; j < 3; j++) {
        const [a, b, d] = [taps[j]!, taps[3 + j]!, taps[6 + j]!];
        f.get(a).set(gg[j]!);
        middle(a, b, d, false);
        f.set(gg[3 + j]!);
        middle(a, b, d, true);
        f.set(gg[6 + j]!);
        f.get(d).set(gg[9 + j]!);
      }
      for (let i = 0; i < 4; i++) {
        const [a, b, d] = [gg[i * 3]!, gg[i * 3 + 1]!, gg[i * 3 + 2]!];
        const at = (j: number) => (i * 4 + j) * o * c * 4;
        f.get(dst).get(a).v128Store(at(0));
        f.get(dst);
        middle(a, b, d, false);
        f.v128Store(at(1));
        f.get(dst);
        middle(a, b, d, true);
        f.v128Store(at(2));
        f.get(dst).get(d).v128Store(at(3));
      }
    }),
  );
  return f;
}

/** winograd(x, u, y, v, m, images): v and m are scratch for one chunk of tiles. */
function emitWinograd(shape: DirectConvShape, nv: number, tiles: number): WasmFunction {
  const f = new WasmFunction('winograd', 6);
  const [x, u, y, v, m, images] = [f.param(0), f.param(1), f.param(2), f.param(3), f.param(4), f.param(5)];
  const { inWidth: wp, inHeight: hp, inChannels: c, outHeight: oh, outWidth: ow, outChannels: o } = shape;
  const [th, tw] = [oh / 2, ow / 2];
  const [total, first, count, k, tile, at, to, cv, xi, ob, pair, uAt, vAt, mAt, ch] = f.locals('i32', 15);
  const d = f.locals('v128', 4);
  const t = f.locals('v128', 16);
  const width = 4 * nv;
  const block = registerBlock(f, MR, nv);

  /**
   * For each tile k of the chunk and each 4 channels: `at` at them in the image (the tile's
   * top-left pixel; images of rows x cols x chans), `to` at tile k's row of the chunk's scratch.
   */
  const eachTileVector = (image: Local, [rows, cols, chans]: [number, number, number], scratch: Local, body: () => void) => {
    f.repeat(k, count, () => {
      // tile = first + k: image tile / (th*tw), then ty, tx within it; pixel (2ty, 2tx)
      f.get(first).get(k).add().set(tile);
      f.get(tile).i32(th * tw).divU().i32(rows * cols * chans * 4).mul();
      f.get(tile).i32(th * tw).remU().i32(tw).divU().i32(2 * cols * chans * 4).mul().add();
      f.get(tile).i32(tw).remU().i32(2 * chans * 4).mul().add();
      f.get(image).add().set(at);
      f.get(k).i32(chans * 4).mul().get(scratch).add().set(to);
      f.repeat(cv, chans / 4, () => {
        body();
        f.addTo(at, 16).addTo(to, 16);
      });
    });
  };

  /**
   * R d R^T of a 4x4 block d (element (i, j) pushed by `load`), R's rows `rows`: each row's
   * columns first, then the rows; `store(i, j, value)` writes element (i, j), pushed by value().
   */
  const transform = (rows: Row[], load: (i: number, j: number) => WasmFunction, store: (i: number, j: number, value: () => void) => void) => {
    const n = rows.length;
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) load(i, j).set(d[j]!);
      combine(f, d, t.slice(i * n, i * n + n), rows);
    }
    for (let j = 0; j < n; j++) {
      const column = [0, 1, 2, 3].map((i) => t[i * n + j]!);
      for (let i = 0; i < n; i++) store(i, j, () => rows[i]!(f, column));
    }
  };

  f.get(images).i32(th * tw).mul().set(total);
  f.i32(0).set(first);
  f.block(() =>
    f.loop(() => {
      f.get(first).get(total).geS().brIf(1);
      f.get(total).get(first).sub().set(count);
      f.i32(tiles).get(count).ltS().ifThen(() => f.i32(tiles).set(count));

      // Input transform, 4 channels at a time: V[xi][k] = B^T d B, B^T = [[1, 0, -1, 0],
      // [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]].
      eachTileVector(x, [hp, wp, c], v, () =>
        transform(
          INPUT_ROWS,
          (i, j) => f.get(at).v128Load((i * wp + j) * c * 4),
          (i, j, value) => {
            f.get(to);
            value();
            f.v128Store((i * 4 + j) * (tiles + MR) * c * 4);
          },
        ),
      );

      // The 16 products M[xi] = V[xi] U[xi] ([count x C] x [C x O]), MR tiles x width channels a block.
      f.repeat(xi, 16, () => {
        f.repeat(ob, o / width, () => {
          f.repeat(pair, Math.ceil(tiles / MR), () => {
            f.get(pair).i32(MR).mul().get(count).ltS();
            f.ifThen(() => {
              for (const acc of block.acc) f.f32x4Const(0).set(acc);
              // vAt = v + (xi*(tiles+MR) + pair*MR)*c*4; uAt = u + (xi*(O/width) + ob)*c*width*4
              f.get(xi).i32((tiles + MR) * c * 4).mul().get(pair).i32(MR * c * 4).mul().add().get(v).add().set(vAt);
              f.get(xi).i32(o * c * 4).mul().get(ob).i32(c * width * 4).mul().add().get(u).add().set(uAt);
              f.repeat(ch, c, () => {
                multiplyAccumulate(f, block, uAt, vAt, c * 4);
                f.addTo(vAt, 4).addTo(uAt, width * 4);
              });
              f.get(xi).i32((tiles + MR) * o * 4).mul().get(pair).i32(MR * o * 4).mul().add();
              f.get(ob).i32(width * 4).mul().add().get(m).add().set(mAt);
              for (let r = 0; r < MR; r++) {
                for (let vv = 0; vv < nv; vv++) f.get(mAt).get(block.acc[r * nv + vv]!).v128Store(r * o * 4 + vv * 16);
              }
            });
          });
        });
      });

      // Output transform, 4 channels at a time: Y = A^T M A, A^T = [[1, 1, 1, 0], [0, 1, -1, -1]].
      eachTileVector(y, [oh, ow, o], m, () =>
        transform(
          OUTPUT_ROWS,
          (i, j) => f.get(to).v128Load((i * 4 + j) * (tiles + MR) * o * 4),
          (i, j, value) => {
            f.get(at);
            value();
            f.v128Store((i * ow + j) * o * 4);
          },
        ),
      );

      f.addTo(first, tiles).br(0);
    }),
  );
  return f;
}

type Row = (f: WasmFunction, d: readonly Local[]) => void;

/** B^T's rows: d0 - d2, d1 + d2, d2 - d1, d1 - d3. */
const INPUT_ROWS: Row[] = [
  (f, d) => f.get(d[0]!).get(d[2]!).f32x4Sub(),
  (f, d) => f.get(d[1]!).get(d[2]!).f32x4Add(),
  (f, d) => f.get(d[2]!).get(d[1]!).f32x4Sub(),
  (f, d) => f.get(d[1]!).get(d[3]!).f32x4Sub(),
];

/** A^T's rows: (d0 + d1) + d2, (d1 - d2) - d3. */
const OUTPUT_ROWS: Row[] = [
  (f, d) => f.get(d[0]!).get(d[1]!).f32x4Add().get(d[2]!).f32x4Add(),
  (f, d) => f.get(d[1]!).get(d[2]!).f32x4Sub().get(d[3]!).f32x4Sub(),
];

/** out[r] = rows[r](d) for each row. */
function combine(f: WasmFunction, d: readonly Local[], out: readonly Local[], rows: Row[]): void {
  rows.forEach((row, r) => {
    row(f, d);
    f.set(out[r]!);
  });
}
