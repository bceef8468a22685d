// Batch normalisation over every axis but the last (NHWC), with its own gradient. TF.js's
// batch norm differentiates through tf.moments (squared differences, means over [N, H, W],
// tile and broadcast in the gradient): about 465 ms of a small-cnn-bn training step at batch
// 128 on wasm. Here the forward pass is one pass for the moments and one affine map, and the
// backward pass one pass for the two per-channel sums (sum dy, sum dy * xhat) and one affine
// map, with the textbook gradient:
//   dx = gamma / sigma * (dy - mean(dy) - xhat * mean(dy * xhat)),
//   dgamma = sum(dy * xhat), dbeta = sum(dy).
// Each per-channel primitive runs as a kernel where the backend has one (the wasm kernels in
// src/wasm-kernels/channel-stats.ts) and as plain TF.js ops elsewhere (the cpu reference).
import { tf } from '../tf.js';
import type { Tensor } from '../tf.js';
import { CHANNEL_AFFINE, CHANNEL_SUMS } from '../wasm-kernels/channel-stats.js';

/** Whether the current backend runs `kernel` for a tensor with these channels (in fours). */
function hasKernel(kernel: string, x: Tensor): boolean {
  const channels = x.shape[x.shape.length - 1] ?? 1;
  return x.dtype === 'float32' && channels % 4 === 0 && tf.getKernel(kernel, tf.getBackend()) !== undefined;
}

/** Every axis but the last. */
const reductionAxes = (x: Tensor) => x.shape.slice(0, -1).map((_, i) => i);

/** Pixels per channel: the count each channel's statistics are over. */
export function pixelsPerChannel(x: Tensor): number {
  return x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
}

/**
 * [sum of (a - ka), sum of (a - ka) * (b - kb)] over every axis but the last, each [C].
 * ka, kb are per-channel [C].
 */
export function channelSums(a: Tensor, b: Tensor, ka: Tensor, kb: Tensor): [Tensor, Tensor] {
  return tf.tidy(() => {
    if (hasKernel(CHANNEL_SUMS, a)) {
      const both = tf.engine().runKernel(CHANNEL_SUMS, { a, b, ka, kb }) as Tensor;
      return tf.unstack(both) as [Tensor, Tensor];
    }
    const da = tf.sub(a, ka);
    const axes = reductionAxes(a);
    return [tf.sum(da, axes), tf.sum(tf.mul(da, tf.sub(b, kb)), axes)];
  });
}

/** a * s + t, and + b * u when given; s, t, u per channel [C]. */
export function channelAffine(a: Tensor, s: Tensor, t: Tensor, b?: Tensor, u?: Tensor): Tensor {
  return tf.tidy(() => {
    if (hasKernel(CHANNEL_AFFINE, a)) {
      return tf.engine().runKernel(CHANNEL_AFFINE, b && u ? { a, s, t, b, u } : { a, s, t }) as Tensor;
    }
    const y = tf.add(tf.mul(a, s), t);
    return b && u ? tf.add(y, tf.mul(b, u)) : y;
  });
}

/**
 * Per-channel mean and (biased) variance in one pass, the sums taken about the first
 * pixel's values so the variance does not cancel when the mean is large.
 */
export function channelMoments(x: Tensor): { mean: Tensor; variance: Tensor } {
  return tf.tidy(() => {
    const c = x.shape[x.shape.length - 1]!;
    // gather, not slice: the wasm backend's Slice copies the whole tensor to read one row.
    const shift = tf.reshape(tf.gather(tf.reshape(x, [-1, c]), [0]), [c]);
    const [s, q] = channelSums(x, x, shift, shift);
    const m = pixelsPerChannel(x);
    const centred = tf.div(s, m);
    return { mean: tf.add(shift, centred), variance: tf.relu(tf.sub(tf.div(q, m), tf.square(centred))) };
  });
}

export interface BatchNormResult {
  y: Tensor;
  /** The batch's statistics (for the moving averages); not on the gradient's path. */
  mean: Tensor;
  variance: Tensor;
}

/** Training mode: normalised by the batch's own statistics, differentiable in x, gamma, beta. */
export function batchNormTraining(x: Tensor, gamma: Tensor, beta: Tensor, epsilon: number): BatchNormResult {
  const { mean, variance } = channelMoments(x);
  const m = pixelsPerChannel(x);
  const op = tf.customGrad((...args: unknown[]) => {
    const [xi, g, bt, save] = args as [Tensor, Tensor, Tensor, tf.GradSaveFunc];
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    const scale = tf.mul(g, invStd);
    save([xi, g, mean, invStd]);
    return {
      value: channelAffine(xi, scale, tf.sub(bt, tf.mul(mean, scale))),
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
        const [xs, gs, mu, inv] = saved as [Tensor, Tensor, Tensor, Tensor];
        const zero = tf.zerosLike(mu);
        // sumDy = sum dy, sumDyX = sum dy * (x - mean) = sum dy * xhat / inv.
        const [sumDy, sumDyX] = channelSums(dy as Tensor, xs, zero, mu);
        const k = tf.mul(gs, inv);
        // dx = k dy + (x - mean) * B - k sumDy / m, with B = -k inv^2 sumDyX / m.
        const bx = tf.neg(tf.div(tf.mul(tf.mul(k, tf.square(inv)), sumDyX), m));
        const c = tf.sub(tf.neg(tf.div(tf.mul(k, sumDy), m)), tf.mul(mu, bx));
        const dx = channelAffine(dy as Tensor, k, c, xs, bx);
        return [dx, tf.mul(sumDyX, inv), sumDy];
      },
    };
  });
  const y = (op as unknown as (...xs: Tensor[]) => Tensor)(x, gamma, beta);
  return { y, mean, variance };
}

/**
 * Inference mode: x * scale + shift with the moving statistics folded in; differentiable in
 * x (input gradients of attacks) and in the per-channel scale and shift.
 */
export function batchNormInference(x: Tensor, gamma: Tensor, beta: Tensor, movingMean: Tensor, movingVariance: Tensor, epsilon: number): Tensor {
  return tf.tidy(() => {
    const scale = tf.mul(gamma, tf.rsqrt(tf.add(movingVariance, epsilon)));
    const shift = tf.sub(beta, tf.mul(movingMean, scale));
    const op = tf.customGrad((...args: unknown[]) => {
      const [xi, s, t, save] = args as [Tensor, Tensor, Tensor, tf.GradSaveFunc];
      save([xi, s]);
      return {
        value: channelAffine(xi, s, t),
        gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
          const [xs, ss] = saved as [Tensor, Tensor];
          const zero = tf.zerosLike(ss);
          const [sumDy, sumDyX] = channelSums(dy as Tensor, xs, zero, zero);
          return [channelAffine(dy as Tensor, ss, zero), sumDyX, sumDy];
        },
      };
    });
    return (op as unknown as (...xs: Tensor[]) => Tensor)(x, scale, shift);
  });
}
