// An independent reference for the decoupled operators: plain loops over patches, written
// from the spec's formulas (not from the library's code), in float64.
import { SeededRandom } from '../../src/random.js';

export interface RefOptions {
  magnitude: string;
  angular: string;
  weighting: string;
  radius: number;
  alpha: number;
  beta: number;
  k: number;
  stride: number;
  padding: 'same' | 'valid';
}

export interface Arr4 {
  data: Float64Array | Float32Array;
  shape: [number, number, number, number];
}

const EPS = 1e-4;

function outSize(size: number, k: number, s: number, padding: 'same' | 'valid'): [number, number] {
  if (padding === 'valid') return [Math.ceil((size - k + 1) / s), 0];
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + k - size, 0);
  return [out, Math.floor(total / 2)];
}

function h(m: string, n: number, o: RefOptions): number {
  const { alpha, beta, radius: rho } = o;
  switch (m) {
    case 'sphere':
      return alpha;
    case 'ball':
      return (alpha * Math.min(n, rho)) / rho;
    case 'tanh':
      return alpha * Math.tanh(n / rho);
    case 'linear':
      return alpha * n;
    case 'seg':
      return n <= rho ? alpha * n : beta * n + alpha * rho - beta * rho;
    case 'log':
      return alpha * Math.log(1 + n);
    case 'mix':
      return alpha * n + beta * Math.log(1 + n);
  }
  throw new Error('unknown magnitude ' + m);
}

function g(a: string, cos: number, k: number): number {
  const c = Math.min(Math.max(cos, -1 + 1e-6), 1 - 1e-6);
  const theta = Math.acos(c);
  switch (a) {
    case 'linear':
      return 1 - (2 * theta) / Math.PI;
    case 'cosine':
      return cos;
    case 'sigmoid': {
      const e = Math.exp(-Math.PI / (2 * k));
      const z = Math.exp(theta / k - Math.PI / (2 * k));
      return ((1 + e) / (1 - e)) * ((1 - z) / (1 + z));
    }
    case 'sqcosine':
      return Math.sign(cos) * cos * cos;
  }
  throw new Error('unknown angular ' + a);
}

/** Reference decoupled convolution; x NHWC, w [kh, kw, cin, cout]. */
export function referenceConv(x: Arr4, w: Arr4, o: RefOptions): Arr4 {
  const [N, H, W, C] = x.shape;
  const [KH, KW, , CO] = w.shape;
  const [OH, padT] = outSize(H, KH, o.stride, o.padding);
  const [OW, padL] = outSize(W, KW, o.stride, o.padding);
  const out = new Float64Array(N * OH * OW * CO);
  const wNorm = new Float64Array(CO);
  for (let co = 0; co < CO; co++) {
    let s = 0;
    for (let i = 0; i < KH * KW * C; i++) s += w.data[i * CO + co]! ** 2;
    wNorm[co] = Math.sqrt(s + EPS);
  }
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        let xx = 0;
        const dots = new Float64Array(CO);
        for (let ky = 0; ky < KH; ky++)
          for (let kx = 0; kx < KW; kx++) {
            const iy = oy * o.stride + ky - padT;
            const ix = ox * o.stride + kx - padL;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue; // zero padding
            for (let c = 0; c < C; c++) {
              const v = x.data[((n * H + iy) * W + ix) * C + c]!;
              xx += v * v;
              for (let co = 0; co < CO; co++) dots[co]! += v * w.data[((ky * KW + kx) * C + c) * CO + co]!;
            }
          }
        const xNorm = Math.sqrt(xx + EPS);
        for (let co = 0; co < CO; co++) {
          const idx = ((n * OH + oy) * OW + ox) * CO + co;
          if (o.magnitude === 'standard') {
            out[idx] = dots[co]!;
            continue;
          }
          const cos = dots[co]! / wNorm[co]! / xNorm;
          const gv = g(o.angular, cos, o.k);
          const wn = wNorm[co]!;
          let hv: number;
          switch (o.weighting) {
            case 'none':
              hv = h(o.magnitude, xNorm, o);
              break;
            case 'linear':
              hv = wn * h(o.magnitude, xNorm, o);
              break;
            case 'nonlinear-a':
              hv = h(o.magnitude, xNorm * wn, o);
              break;
            case 'nonlinear-b':
              hv = (h(o.magnitude, wn, o) * h(o.magnitude, xNorm, o)) / o.alpha;
              break;
            default:
              throw new Error('unknown weighting ' + o.weighting);
          }
          out[idx] = hv * gv;
        }
      }
  return { data: out, shape: [N, OH, OW, CO] };
}

/** Seeded uniform numbers in [lo, hi) (the toolkit's generator), so failures reproduce. */
export function seededUniform(count: number, seed: number, lo = -1, hi = 1): Float32Array {
  const rng = new SeededRandom(seed);
  return Float32Array.from({ length: count }, () => lo + (hi - lo) * rng.next());
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
