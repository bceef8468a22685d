// A network's convolution layers timed alone, each pass on its own (forward, dL/dx, dL/dw):
// the side-by-side runs the same layers on the PyTorch anchor (`--convolutions`), so that what
// limits a whole step shows layer by layer, next to the 128-bit SIMD ceiling of this core.
import { tf } from '../tf.js';
import type { Tensor, Tensor4D } from '../tf.js';
import { buildModel } from '../../models/architectures.js';
import { UsageError } from '../errors.js';
import { clockSeconds, type Clock } from './clock.js';

export const CONV_PASSES = ['forward', 'inputGradient', 'filterGradient'] as const;
export type ConvPass = (typeof CONV_PASSES)[number];

/** One convolution layer at a batch size: NHWC input, [kh, kw, cin, cout] filter. */
export interface ConvolutionSpec {
  input: [number, number, number, number];
  filter: [number, number, number, number];
  stride: number;
  padding: 'same' | 'valid';
}

export interface ConvolutionTiming {
  /** The spec as formatSpec writes it. */
  convolution: string;
  pass: ConvPass;
  /** Milliseconds of the fastest call (what the kernel can do, as the SIMD ceiling is measured). */
  ms: number;
}

/** `128x14x14x32:3x3x32x64:s1:same` (the anchor's --convolutions reads the same). */
export function formatSpec(s: ConvolutionSpec): string {
  return `${s.input.join('x')}:${s.filter.join('x')}:s${s.stride}:${s.padding}`;
}

export function parseSpec(value: string): ConvolutionSpec {
  const m = /^(\d+)x(\d+)x(\d+)x(\d+):(\d+)x(\d+)x(\d+)x(\d+):s(\d+):(same|valid)$/.exec(value);
  const dims = m ? m.slice(1, 10).map(Number) : [];
  if (!m || dims.some((d) => d < 1) || dims[3] !== dims[6]) {
    throw new UsageError(
      `Invalid convolution '${value}': give NxHxWxC:KHxKWxCxCOUT:sSTRIDE:same|valid (the filter's C equal to the input's), e.g. 128x14x14x32:3x3x32x64:s1:same.`,
    );
  }
  const [n, h, w, c, kh, kw, ci, co, stride] = dims as [number, number, number, number, number, number, number, number, number];
  if (m[10] === 'valid' && (kh > h || kw > w)) throw new UsageError(`Invalid convolution '${value}': a ${kh}x${kw} filter does not fit a ${h}x${w} input without padding.`);
  return { input: [n, h, w, c], filter: [kh, kw, ci, co], stride, padding: m[10] as 'same' | 'valid' };
}

/** The output's height and width (TF's rules). */
export function outputSize(s: ConvolutionSpec): [number, number] {
  const out = (size: number, k: number) => (s.padding === 'same' ? Math.ceil(size / s.stride) : Math.ceil((size - k + 1) / s.stride));
  return [out(s.input[1], s.filter[0]), out(s.input[2], s.filter[1])];
}

/** FLOPs of each pass (a multiply and an add per filter tap, input channel and output element). */
export function convolutionFlops(s: ConvolutionSpec): number {
  const [oh, ow] = outputSize(s);
  const [kh, kw, ci, co] = s.filter;
  return 2 * s.input[0] * oh * ow * co * kh * kw * ci;
}

/**
 * The distinct convolution layers of `network` at `batch` (the standard operator: a decoupled
 * operator's convolution has the same shape), in the order the layers are built, each with the
 * number of layers of its shape.
 */
export function networkConvolutions(network: string, inputShape: [number, number, number], batch: number): Array<ConvolutionSpec & { layers: number }> {
  const model = buildModel(network, { inputShape, numClasses: 10, operator: 'standard', seed: 1 });
  try {
    const specs = new Map<string, ConvolutionSpec & { layers: number }>();
    for (const layer of model.layers) {
      if (layer.getClassName() !== 'DecoupledConv2D') continue;
      const [, h, w, c] = layer.inputSpec?.[0]?.shape ?? (layer.input as tf.SymbolicTensor).shape;
      const [kh, kw, , co] = layer.getWeights()[0]!.shape as number[];
      const config = layer.getConfig() as { strides: [number, number]; padding: 'same' | 'valid' };
      if (config.strides[0] !== config.strides[1]) continue; // not in our networks; the anchor takes one stride
      const spec: ConvolutionSpec = { input: [batch, h!, w!, c!], filter: [kh!, kw!, c!, co!], stride: config.strides[0], padding: config.padding };
      const key = formatSpec(spec);
      specs.set(key, { ...spec, layers: (specs.get(key)?.layers ?? 0) + 1 });
    }
    return [...specs.values()];
  } finally {
    model.dispose();
  }
}

/**
 * Times each pass of `spec` on the current backend: `warmup` untimed calls, then the fastest of
 * `steps` timed calls, each finished (one value read back) and freed. The fastest, not the
 * median: set beside the SIMD ceiling (itself the fastest of its runs), it says what the kernel
 * can do, which a busy machine's slow phases would hide.
 */
export function timeConvolution(spec: ConvolutionSpec, o: { steps: number; warmup: number; seed: number; clock: Clock }): ConvolutionTiming[] {
  const x = tf.randomUniform(spec.input, 0, 1, 'float32', o.seed) as Tensor4D;
  const w = tf.randomUniform(spec.filter, -0.5, 0.5, 'float32', o.seed + 1) as Tensor4D;
  const dy = tf.tidy(() => tf.randomUniform([spec.input[0], ...outputSize(spec), spec.filter[3]], -0.5, 0.5, 'float32', o.seed + 2)) as Tensor4D;
  const attrs = { strides: spec.stride, pad: spec.padding, dataFormat: 'NHWC', dilations: 1 };
  const passes: Record<ConvPass, () => Tensor> = {
    forward: () => tf.conv2d(x, w, spec.stride, spec.padding),
    // The kernels a gradient runs (as tf.grad of conv2d calls them).
    inputGradient: () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: spec.input }) as Tensor,
    filterGradient: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: spec.filter }) as Tensor,
  };
  // One value read back forces completion on any backend; reading the whole output would time
  // a copy of megabytes into a fresh JS array (several times the first layer's convolution), and
  // so would the wasm backend's Slice (it reads the whole tensor): one Gather instead.
  const run = (f: () => Tensor) => {
    const t = f();
    tf.tidy(() => tf.gather(tf.reshape(t, [-1]), [0]).dataSync());
    t.dispose();
  };
  try {
    return CONV_PASSES.map((pass) => {
      for (let i = 0; i < o.warmup; i++) run(passes[pass]);
      const seconds: number[] = [];
      for (let i = 0; i < o.steps; i++) {
        const start = clockSeconds(o.clock);
        run(passes[pass]);
        seconds.push(clockSeconds(o.clock) - start);
      }
      return { convolution: formatSpec(spec), pass, ms: 1000 * Math.min(...seconds) };
    });
  } finally {
    tf.dispose([x, w, dy]);
  }
}
