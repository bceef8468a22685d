// The decoupled convolution f(w, x) = h(|w|, |x|) * g(theta) of Liu et al. (CVPR 2018),
// computed as in the authors' code: unit filters, a patch-norm convolution, ordinary
// automatic differentiation through every norm. See shared spec, section 1.
import { tf } from '../tf.js';
import type { Tensor, Tensor4D } from '../tf.js';
import {
  type Angular,
  type DecoupledOptions,
  type DecoupledOptionsInput,
  type Magnitude,
  OptionError,
  resolveOptions,
} from './options.js';
import { withRecomputedGradient } from './recompute.js';

/** Added under every square root, as in the authors' code: keeps norms and gradients finite. */
export const NORM_EPSILON = 1e-4;
/** The angle is only taken of a cosine inside this margin, or its gradient is infinite. */
export const ACOS_MARGIN = 1e-6;

/** Radius: a number, or a tensor broadcastable against [N, H', W', cout] (learnable radius). */
export type Radius = number | Tensor;

export interface DecoupledParts {
  /** <x, w/|w|> for every patch and filter: |x| cos(theta), [N, H', W', cout]. */
  projection: Tensor4D;
  /** Patch norm |x| (with epsilon), [N, H', W', 1]. */
  xNorm: Tensor4D;
  /** Filter norm |w| (with epsilon), [cout]. */
  wNorm: Tensor;
}

/** Checks shapes; the message names what is wrong and what would work. */
export function checkConvShapes(
  xShape: readonly number[],
  wShape: readonly number[],
  padding: 'same' | 'valid',
): void {
  if (xShape.length !== 4) {
    throw new OptionError(`Input must be NHWC (rank 4), got shape [${xShape.join(', ')}].`);
  }
  if (wShape.length !== 4) {
    throw new OptionError(
      `Filter must be [kh, kw, cin, cout] (rank 4), got shape [${wShape.join(', ')}].`,
    );
  }
  const [, h, w, cin] = xShape;
  const [kh, kw, wcin] = wShape;
  if (cin !== wcin) {
    throw new OptionError(
      `Input has ${cin} channels but the filter expects ${wcin} (filter shape [${wShape.join(', ')}]).`,
    );
  }
  if (padding === 'valid' && (kh! > h! || kw! > w!)) {
    throw new OptionError(
      `Invalid padding 'valid': kernel ${kh}x${kw} is larger than the ${h}x${w} input. ` +
        `Valid values: same, valid (use 'same', a smaller kernel or a larger input).`,
    );
  }
}

/** |x| for every patch: sum x^2 over channels, then a box filter; [N, H', W', 1]. */
export function patchNorm(
  x: Tensor4D,
  kernel: [number, number],
  strides: [number, number],
  padding: 'same' | 'valid',
): Tensor4D {
  return tf.tidy(() => {
    const energy = tf.sum(tf.square(x), -1, true) as Tensor4D;
    const box = tf.ones([kernel[0], kernel[1], 1, 1]) as Tensor4D;
    return tf.sqrt(tf.add(tf.conv2d(energy, box, strides, padding), NORM_EPSILON)) as Tensor4D;
  });
}

/** |w| per output channel (with epsilon), [cout]. */
export function filterNorm(w: Tensor4D): Tensor {
  return tf.tidy(() => tf.sqrt(tf.add(tf.sum(tf.square(w), [0, 1, 2]), NORM_EPSILON)));
}

/** |x| cos(theta), |x| and |w|: everything the operators are built from. */
export function decoupledParts(x: Tensor4D, w: Tensor4D, o: DecoupledOptions): DecoupledParts {
  return tf.tidy(() => {
    const wNorm = filterNorm(w);
    const unit = tf.div(w, wNorm) as Tensor4D;
    const xNorm = patchNorm(x, [w.shape[0], w.shape[1]], o.strides, o.padding);
    const projection = tf.conv2d(x, unit, o.strides, o.padding);
    return { projection, xNorm, wNorm };
  });
}

/** cos(theta) = <x, w/|w|> / |x|, [N, H', W', cout]. */
export function cosine(parts: DecoupledParts): Tensor4D {
  return tf.div(parts.projection, parts.xNorm);
}

/** h(n): the magnitude function applied to a norm tensor n (radius rho). */
export function magnitudeFn(m: Magnitude, n: Tensor, rho: Radius, o: DecoupledOptions): Tensor {
  const { alpha, beta } = o;
  switch (m) {
    case 'sphere':
      return tf.mul(tf.onesLike(n), alpha);
    case 'ball':
      // With a tensor radius, min(n/rho, 1): the same values as min(n, rho)/rho (both are
      // n/rho where n <= rho and exactly 1 beyond), without broadcasting n and rho against
      // each other twice (the wasm backend's two-sided broadcasts are slow).
      return tf.mul(typeof rho === 'number' ? tf.div(tf.minimum(n, rho), rho) : tf.minimum(tf.div(n, rho), 1), alpha);
    case 'tanh':
      return tf.mul(tf.tanh(tf.div(n, rho)), alpha);
    case 'linear':
      return tf.mul(n, alpha);
    case 'seg': {
      // alpha*|x| up to rho, then slope beta: alpha*min(n, rho) + beta*max(n - rho, 0). With a
      // tensor radius, min(n, rho) is taken as n - max(n - rho, 0) (one broadcast of n against
      // rho instead of three: the wasm backend's two-sided broadcasts are slow).
      if (typeof rho === 'number') return tf.add(tf.mul(tf.minimum(n, rho), alpha), tf.mul(tf.relu(tf.sub(n, rho)), beta));
      const over = tf.relu(tf.sub(n, rho));
      return tf.add(tf.mul(tf.sub(n, over), alpha), tf.mul(over, beta));
    }
    case 'log':
      return tf.mul(tf.log1p(n), alpha);
    case 'mix':
      return tf.add(tf.mul(n, alpha), tf.mul(tf.log1p(n), beta));
  }
}

/**
 * pi/2 - theta = asin(cos), the cosine clipped so that the gradient stays finite. Not
 * pi/2 - acos(cos): the wasm backend rounds acos(0) below pi/2, which made linear and
 * sigmoid g slightly positive on every all-zero patch (a background pixel), opened the next
 * ReLU and leaked gradient there. asin(0) is 0 on every backend; the ends are the clip's.
 */
function complementAngle(cos: Tensor): Tensor {
  return tf.asin(tf.clipByValue(cos, -1 + ACOS_MARGIN, 1 - ACOS_MARGIN));
}

/** g(theta) from cos(theta). */
export function angularFn(a: Angular, cos: Tensor, k: number): Tensor {
  switch (a) {
    case 'cosine':
      return cos;
    case 'sqcosine':
      return tf.mul(cos, tf.abs(cos)); // sign(cos) * cos^2
    case 'linear':
      return tf.mul(complementAngle(cos), 2 / Math.PI); // 1 - 2 theta / pi
    case 'sigmoid': {
      // The paper's ratio of exponentials equals coth(pi/(4k)) * tanh((pi/2 - theta) / (2k)):
      // the same function, without overflow for small k.
      const scale = 1 / Math.tanh(Math.PI / (4 * k));
      return tf.mul(tf.tanh(tf.div(complementAngle(cos), 2 * k)), scale);
    }
  }
}

/**
 * Combines the parts into the operator's output [N, H', W', cout]. Weightings (the paper's
 * ablation) generalise to every magnitude h and reduce to the paper's formulas for TanhConv:
 * linear: |w| h(|x|) g; nonlinear-a: h(|x| |w|) g; nonlinear-b: h(|w|) h(|x|) g / alpha.
 */
export function combineParts(parts: DecoupledParts, o: DecoupledOptions, rho: Radius): Tensor4D {
  return tf.tidy(() => {
    const m = o.magnitude as Magnitude;
    let h: Tensor;
    switch (o.weighting) {
      case 'none':
        h = magnitudeFn(m, parts.xNorm, rho, o);
        break;
      case 'linear':
        h = tf.mul(magnitudeFn(m, parts.xNorm, rho, o), parts.wNorm);
        break;
      case 'nonlinear-a':
        h = magnitudeFn(m, tf.mul(parts.xNorm, parts.wNorm), rho, o);
        break;
      case 'nonlinear-b':
        h = tf.div(
          tf.mul(magnitudeFn(m, parts.xNorm, rho, o), magnitudeFn(m, parts.wNorm, rho, o)),
          o.alpha,
        );
        break;
    }
    // Cosine: h cos = <x, w/|w|> (h / |x|); h / |x| is usually one value per pixel, so this
    // saves a full-size division (and three full-size ops in the gradient).
    if (o.angular === 'cosine') return tf.mul(parts.projection, tf.div(h, parts.xNorm)) as Tensor4D;
    return tf.mul(h, angularFn(o.angular, cosine(parts), o.k)) as Tensor4D;
  });
}

/**
 * Decoupled convolution of NHWC input `x` with filter `w` [kh, kw, cin, cout].
 * `magnitude: 'standard'` is the plain convolution (the baseline).
 */
export function decoupledConv2d(
  x: Tensor4D,
  w: Tensor4D,
  options: DecoupledOptionsInput = {},
  radius?: Radius,
): Tensor4D {
  const o = resolveOptions(options);
  checkConvShapes(x.shape, w.shape, o.padding);
  if (o.magnitude === 'standard') return tf.conv2d(x, w, o.strides, o.padding);
  const rho = radius ?? o.radius;
  if (typeof rho === 'number') {
    return withRecomputedGradient((xi, wi) => combineParts(decoupledParts(xi as Tensor4D, wi as Tensor4D, o), o, rho), [x, w]);
  }
  return withRecomputedGradient(
    (xi, wi, r) => combineParts(decoupledParts(xi as Tensor4D, wi as Tensor4D, o), o, r!),
    [x, w, rho],
  );
}
