// The ceiling of 128-bit wasm SIMD on this core, measured rather than assumed: generated
// modules (the kernels' own code generator) run f32x4 multiply + add with nothing else to
// do, once from registers only and once with the loads of the direct convolution's inner
// loop (filter vectors and broadcast pixels from a buffer that stays in L1). Convolution
// GFLOP/s are read against these (perf's table and --json).
import { WasmFunction, encodeModule, type Local } from '../wasm-kernels/codegen/emitter.js';
import { multiplyAccumulate, registerBlock } from '../wasm-kernels/codegen/register-block.js';
import { clockSeconds, type Clock } from './clock.js';

export interface SimdCeiling {
  /** GFLOP/s of register-blocked f32x4 mul + add, no memory traffic. */
  registers: number;
  /** GFLOP/s of the direct convolution's register block fed from L1 (its inner loop). */
  l1Loads: number;
}

/** Independent accumulator chains: enough to cover mul + add latency on two pipes each. */
export const CHAINS = 12;
/** Chain updates unrolled per loop iteration, so the loop's own counting is negligible. */
export const UNROLL = 4;
/** The direct convolution's block on small-cnn's second layer: 2 pixels x 16 channels. */
export const MR = 2;
export const NV = 4;
/** Inner steps per pass over the L1 buffer: 256 x (64 + 4) bytes, well inside a 32 KiB L1. */
export const L1_STEPS = 256;

/** registers(iterations): CHAINS * UNROLL updates acc = acc * m + c per iteration (8 flops each). */
function emitRegisters(): WasmFunction {
  const f = new WasmFunction('registers', 1);
  const iterations = f.param(0);
  const i = f.local('i32');
  const acc = f.locals('v128', CHAINS);
  const [m, c] = f.locals('v128', 2);
  // Converges to c / (1 - m) = 1000: no overflow, no subnormals.
  f.f32x4Const(0.999999).set(m).f32x4Const(0.001).set(c);
  acc.forEach((a, k) => f.f32x4Const(k).set(a));
  f.repeat(i, iterations, () => {
    for (let u = 0; u < UNROLL; u++) for (const a of acc) f.get(a).get(m).f32x4Mul().get(c).f32x4Add().set(a);
  });
  storeAll(f, acc);
  return f;
}

/**
 * l1(iterations, base): per iteration, L1_STEPS steps of the direct convolution's inner loop:
 * NV filter vectors loaded, MR pixels broadcast, MR x NV accumulators += pixel * filter.
 */
function emitL1Loads(): WasmFunction {
  const f = new WasmFunction('l1', 2);
  const [iterations, base] = [f.param(0), f.param(1)];
  const [i, step, wc, xc] = f.locals('i32', 4);
  const block = registerBlock(f, MR, NV);
  const acc = block.acc;
  acc.forEach((k) => f.f32x4Const(0).set(k));
  f.repeat(i, iterations, () => {
    f.get(base).set(wc);
    f.get(base).i32(L1_STEPS * NV * 16).add().set(xc);
    f.repeat(step, L1_STEPS, () => {
      multiplyAccumulate(f, block, wc, xc, 4);
      f.addTo(xc, 4).addTo(wc, NV * 16);
    });
  });
  storeAll(f, acc);
  return f;
}

/** Stores the accumulators at address 0, so that the engine cannot drop the work. */
function storeAll(f: WasmFunction, acc: Local[]): void {
  const zero = f.local('i32');
  f.i32(0).set(zero);
  acc.forEach((k, idx) => f.get(zero).get(k).v128Store(idx * 16));
}

/** Flops of one iteration of each function. */
export const FLOPS_PER_ITERATION = { registers: CHAINS * UNROLL * 8, l1: L1_STEPS * MR * NV * 8 } as const;

/** Bytes the L1 function reads from `base` on. */
export const L1_BYTES = L1_STEPS * (NV * 16 + 4) + MR * 4;

export interface CeilingOptions {
  clock: Clock;
  /** Seconds each timed run should take (its iterations are sized from a first short run). */
  seconds?: number;
  /** Timed runs of each function; the fastest counts (the others were interrupted more). */
  repeats?: number;
}

export interface CeilingKernels {
  /** registers(iterations): accumulators (CHAINS x 4 floats) stored at address 0. */
  registers(iterations: number): void;
  /** l1(iterations, base): reads L1_BYTES from base; accumulators (MR*NV x 4) stored at 0. */
  l1(iterations: number, base: number): void;
}

/** The two generated functions, on `memory` (a private one: never the backend's heap). */
export function ceilingKernels(memory: WebAssembly.Memory): CeilingKernels {
  const module = new WebAssembly.Module(encodeModule([emitRegisters(), emitL1Loads()]));
  return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as CeilingKernels;
}

/** Measures both ceilings. */
export function measureSimdCeiling(o: CeilingOptions): SimdCeiling {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const base = 1024;
  new Float32Array(memory.buffer, base, L1_BYTES / 4).fill(0.5);
  const exports = ceilingKernels(memory);
  const gflops = (fn: (iterations: number) => void, flopsPerIteration: number) =>
    bestRate(fn, o.clock, o.seconds ?? 0.1, o.repeats ?? 5) * flopsPerIteration / 1e9;
  return {
    registers: gflops((n) => exports.registers!(n), FLOPS_PER_ITERATION.registers),
    l1Loads: gflops((n) => exports.l1!(n, base), FLOPS_PER_ITERATION.l1),
  };
}

/** Iterations per second of the fastest of `repeats` runs of about `seconds` each. */
function bestRate(fn: (iterations: number) => void, clock: Clock, seconds: number, repeats: number): number {
  // Warm-up (compilation to optimised code) and sizing: grow until a run takes 10 ms.
  let iterations = 1000;
  for (;;) {
    const t = timed(fn, iterations, clock);
    if (t >= 0.01) {
      iterations = Math.max(1, Math.round((iterations * seconds) / t));
      break;
    }
    iterations *= 4;
  }
  let best = 0;
  for (let r = 0; r < repeats; r++) best = Math.max(best, iterations / timed(fn, iterations, clock));
  return best;
}

function timed(fn: (iterations: number) => void, iterations: number, clock: Clock): number {
  const start = clockSeconds(clock);
  fn(iterations);
  // The CPU clock ticks in microseconds: never divide by zero.
  return Math.max(clockSeconds(clock) - start, 1e-6);
}
