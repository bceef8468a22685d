// Gradients that run as one pass where the backend has the fused kernel: TF.js's gradient of
// Relu (dy * cast(step(x))) and, for a per-pixel scale ([..., C] times [..., 1]), Multiply's
// gradient of the [..., 1] operand (sum over channels of dy * x). Gradients are registered for
// every backend at once, so each route checks that the backend running it has the kernel and
// otherwise calls TF.js's own gradient (the cpu backend, the reference, always does).
import { tf } from '../tf.js';
import type { Tensor } from '../tf.js';
import { pixelScaling } from './multiply.js';
import { optionalKernelOn } from './optional.js';
import { PIXEL_DOT, pixelDotApplies } from './pixel-dot.js';
import { RELU_GRAD, reluGradApplies } from './relu-grad.js';

type GradFunc = tf.GradConfig['gradFunc'];

/** TF.js's own gradients of the kernels routed here, captured before they are replaced. */
const own = new Map<string, GradFunc>();

function ownGradient(kernelName: string): GradFunc {
  const g = own.get(kernelName);
  if (!g) throw new Error(`TF.js has no gradient for ${kernelName} to fall back to`);
  return g;
}

function backendHas(kernelName: string): boolean {
  return tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}

function run(kernelName: string, inputs: Record<string, Tensor>): Tensor {
  return tf.engine().runKernel(kernelName, inputs as never, {}) as Tensor;
}

/** dy * step(x) as TF.js defines it, in one pass where it can. */
function reluGradient(dy: Tensor, x: Tensor): Tensor {
  if (optionalKernelOn('reluGrad') && backendHas(RELU_GRAD) && reluGradApplies(dy, x)) return run(RELU_GRAD, { dy, x });
  return tf.mul(dy, tf.cast(tf.step(x), 'float32'));
}

/** sum over the last axis of dy * x, kept as [..., 1], in one pass where it can (else undefined). */
function pixelDot(dy: Tensor, x: Tensor): Tensor | undefined {
  if (optionalKernelOn('pixelDot') && backendHas(PIXEL_DOT) && pixelDotApplies(dy, x)) return run(PIXEL_DOT, { dy, x });
  return undefined;
}

const ROUTES: tf.GradConfig[] = [
  {
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => reluGradient(dy as Tensor, saved[0]!) }),
  },
  {
    kernelName: 'Multiply',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const grads = ownGradient('Multiply')(dy, saved, attrs);
      const [a, b] = saved as [Tensor, Tensor];
      const scaling = pixelScaling(a, b);
      if (!scaling) return grads;
      const g = dy as Tensor;
      // The per-pixel operand's gradient: its partner's values times dy, summed over channels.
      if (scaling[1] === a) return { ...grads, a: () => pixelDot(g, b) ?? grads.a!() };
      return { ...grads, b: () => pixelDot(g, a) ?? grads.b!() };
    },
  },
  // The fused kernels' own gradients, for a gradient of a gradient.
  {
    kernelName: RELU_GRAD,
    inputsToSave: ['x'],
    gradFunc: (dz, saved) => ({ dy: () => reluGradient(dz as Tensor, saved[0]!), x: () => tf.zerosLike(saved[0]!) }),
  },
  {
    kernelName: PIXEL_DOT,
    inputsToSave: ['dy', 'x'],
    gradFunc: (dz, saved) => ({ dy: () => tf.mul(saved[1]!, dz as Tensor), x: () => tf.mul(saved[0]!, dz as Tensor) }),
  },
];

let routed = false;

/** Registers the routes (once); TF.js's own gradients stay reachable through them. */
export function routeGradients(): void {
  if (routed) return;
  routed = true;
  for (const route of ROUTES) {
    const theirs = tf.getGradient(route.kernelName);
    if (theirs) own.set(route.kernelName, theirs.gradFunc);
    tf.registerGradient(route);
  }
}
