// Where a step's time goes: the engine's per-kernel timings (tf.profile) over a few steps,
// summed per kernel, and the convolutions' achieved GFLOP/s from the FLOPs their shapes
// imply. Profiling adds its own bookkeeping per kernel, so images/s come from the timed steps
// (measure.ts), never from these.
import { tf } from '../tf.js';
import { clockSeconds, type Clock } from './clock.js';

/** The kernels that are convolutions: the forward pass and both of its gradients. */
export const CONV_KERNELS = ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'] as const;

export interface KernelTime {
  name: string;
  /** Milliseconds per step. */
  ms: number;
  /** Share of the step's kernel time. */
  share: number;
}

export interface StepProfile {
  /** Milliseconds per step of all kernels together. */
  kernelMs: number;
  /** The convolutions (CONV_KERNELS): FLOPs per step, their time and achieved rate. */
  convolutions: { gflopPerStep: number; ms: number; share: number; gflops: number };
  /** Every kernel, slowest first. */
  kernels: KernelTime[];
}

/** One kernel call as tf.profile reports it (the fields used here). */
interface KernelRecord {
  name: string;
  inputShapes: number[][];
  outputShapes: number[][];
  kernelTimeMs: number | { error: string };
}

/**
 * FLOPs of a convolution kernel call from its shapes (a multiply and an add per filter tap
 * per output element): 2 |y| kh kw C, where y is the output (Conv2D) or the output gradient
 * dy (both gradients), and kh kw C = |filter| / O. Zero for any other kernel.
 */
export function convFlops(k: Pick<KernelRecord, 'name' | 'inputShapes' | 'outputShapes'>): number {
  const size = (shape: number[] | undefined) => (shape ?? []).reduce((a, b) => a * b, 1);
  let y: number[] | undefined;
  let filter: number[] | undefined;
  switch (k.name) {
    case 'Conv2D': // inputs x, filter
      [y, filter] = [k.outputShapes[0], k.inputShapes[1]];
      break;
    case 'Conv2DBackpropInput': // inputs dy, filter
      [y, filter] = [k.inputShapes[0], k.inputShapes[1]];
      break;
    case 'Conv2DBackpropFilter': // inputs x, dy; output the filter's gradient
      [y, filter] = [k.inputShapes[1], k.outputShapes[0]];
      break;
    default:
      return 0;
  }
  const outChannels = filter![3]!;
  return (2 * size(y) * size(filter)) / outChannels;
}

/**
 * Profiles `runs` calls of `body` (one step each, its result read back and freed inside).
 * Kernel times are on `clock`: with `cpu`, the backend's timer is swapped for the process's
 * CPU time for the duration (the backends time kernels synchronously).
 */
export async function profileSteps(body: () => void, runs: number, clock: Clock): Promise<StepProfile> {
  const backend = tf.backend() as unknown as { time(f: () => void): Promise<{ kernelMs: number }> };
  const ownTime = backend.time;
  if (clock === 'cpu') {
    backend.time = async (f) => {
      const start = clockSeconds('cpu');
      f();
      return { kernelMs: (clockSeconds('cpu') - start) * 1000 };
    };
  }
  const records: KernelRecord[] = [];
  try {
    for (let r = 0; r < runs; r++) records.push(...((await tf.profile(body)).kernels as unknown as KernelRecord[]));
  } finally {
    backend.time = ownTime;
  }
  return summariseKernels(records, runs, tf.getBackend());
}

/**
 * Sums the records per kernel name. Only registered kernels count: ops with a custom
 * gradient appear as records too, timing the kernels inside them a second time.
 */
export function summariseKernels(records: readonly KernelRecord[], runs: number, backendName: string): StepProfile {
  const byName = new Map<string, number>();
  let convMs = 0;
  let flops = 0;
  for (const k of records) {
    if (!tf.getKernel(k.name, backendName) || typeof k.kernelTimeMs !== 'number') continue;
    byName.set(k.name, (byName.get(k.name) ?? 0) + k.kernelTimeMs);
    const f = convFlops(k);
    if (f > 0) {
      flops += f;
      convMs += k.kernelTimeMs;
    }
  }
  const totalMs = [...byName.values()].reduce((a, b) => a + b, 0);
  const share = (ms: number) => (totalMs > 0 ? ms / totalMs : 0);
  return {
    kernelMs: totalMs / runs,
    convolutions: {
      gflopPerStep: flops / runs / 1e9,
      ms: convMs / runs,
      share: share(convMs),
      gflops: convMs > 0 ? flops / (convMs * 1e6) : 0,
    },
    kernels: [...byName.entries()]
      .map(([name, ms]) => ({ name, ms: ms / runs, share: share(ms) }))
      .sort((a, b) => b.ms - a.ms),
  };
}
