// perf's per-kernel profile and SIMD ceiling: the ceiling's generated functions compute what
// their FLOP count claims (checked against a float32 recurrence written here), and the
// convolutions' FLOPs of small-cnn's steps equal the count by hand from the layer shapes.
// (Speeds themselves are measured by `npm run perf`, never asserted.)
import { describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import { runPerf } from '../src/perf/program.js';
import { convFlops } from '../src/perf/kernel-profile.js';
import { CHAINS, ceilingKernels, L1_BYTES, L1_STEPS, MR, NV, UNROLL } from '../src/perf/simd-ceiling.js';
import { seededUniform } from './helpers/reference.js';

describe('SIMD ceiling microbenchmark', () => {
  it('registers(n): every lane of chain k is k after n * UNROLL float32 steps of acc * 0.999999 + 0.001', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const kernels = ceilingKernels(memory);
    const n = 7;
    kernels.registers(n);
    const out = new Float32Array(memory.buffer, 0, CHAINS * 4);
    const m = Math.fround(0.999999);
    const c = Math.fround(0.001);
    for (let k = 0; k < CHAINS; k++) {
      let acc = k;
      for (let s = 0; s < n * UNROLL; s++) acc = Math.fround(Math.fround(acc * m) + c);
      for (let lane = 0; lane < 4; lane++) expect(out[k * 4 + lane]).toBe(acc);
    }
  });

  it('l1(n, base): accumulator (r, v) sums x[r + step] * w[step][v] over L1_STEPS steps, n times', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const kernels = ceilingKernels(memory);
    const base = 1024;
    // Small integers: every float32 sum below is exact, whatever the order.
    const data = Float32Array.from(seededUniform(L1_BYTES / 4, 7, 0, 4), Math.floor);
    new Float32Array(memory.buffer, base, data.length).set(data);
    const n = 3;
    kernels.l1(n, base);
    const out = new Float32Array(memory.buffer, 0, MR * NV * 4);
    const xAt = L1_STEPS * NV * 4; // in floats
    for (let r = 0; r < MR; r++) {
      for (let v = 0; v < NV; v++) {
        for (let lane = 0; lane < 4; lane++) {
          let sum = 0;
          for (let step = 0; step < L1_STEPS; step++) sum += data[xAt + step + r]! * data[step * NV * 4 + v * 4 + lane]!;
          expect(out[(r * NV + v) * 4 + lane]).toBe(n * sum);
        }
      }
    }
  });
});

describe('convolution FLOPs of a profile', () => {
  it('counts 2 |y| kh kw C for the forward pass and both gradients', () => {
    // y [2, 5, 5, 8] (400 elements) from a [3, 3, 4, 8] filter (36 taps per output): 2 * 400 * 36.
    const flops = 2 * 400 * 36;
    expect(convFlops({ name: 'Conv2D', inputShapes: [[2, 5, 5, 4], [3, 3, 4, 8]], outputShapes: [[2, 5, 5, 8]] })).toBe(flops);
    expect(convFlops({ name: 'Conv2DBackpropInput', inputShapes: [[2, 5, 5, 8], [3, 3, 4, 8]], outputShapes: [[2, 5, 5, 4]] })).toBe(flops);
    expect(convFlops({ name: 'Conv2DBackpropFilter', inputShapes: [[2, 5, 5, 4], [2, 5, 5, 8]], outputShapes: [[3, 3, 4, 8]] })).toBe(flops);
    expect(convFlops({ name: 'MaxPool', inputShapes: [[2, 5, 5, 8]], outputShapes: [[2, 3, 3, 8]] })).toBe(0);
  });

  it("npm run perf -- --json: small-cnn's convolution FLOPs per step equal the count from its layer shapes", async () => {
    const before = tf.memory().numTensors;
    const printed: string[] = [];
    const batch = 2;
    await runPerf(
      {
        backend: process.env.DCNET_TEST_BACKEND ?? 'wasm',
        json: true,
        network: 'small-cnn',
        operators: ['standard', 'tanh-cosine'],
        only: ['train', 'forward', 'inputGradient'],
        batch,
        steps: 1,
        warmup: 1,
        seed: 1,
        clock: 'cpu',
        profileSteps: 1,
      },
      (text) => printed.push(text),
    );
    const report = JSON.parse(printed[0]!);
    // 3x3 convolutions, same padding: 28x28x1 -> 32 channels, then (pooled) 14x14x32 -> 64.
    const conv1 = 2 * batch * 28 * 28 * 32 * 9 * 1;
    const conv2 = 2 * batch * 14 * 14 * 64 * 9 * 32;
    // The decoupled operator's patch norm: a 3x3 box filter over one channel, per layer.
    const norms = 2 * batch * 28 * 28 * 9 + 2 * batch * 14 * 14 * 9;
    const expected: Record<string, number> = {
      // Training: no input gradient of the first layer (the images are not trained).
      'standard train': 2 * conv1 + 3 * conv2,
      'standard forward': conv1 + conv2,
      'standard inputGradient': 2 * conv1 + 2 * conv2,
      'tanh-cosine forward': conv1 + conv2 + norms,
    };
    for (const r of report.results) {
      expect(r.profile.convolutions.gflops).toBeGreaterThan(0);
      expect(r.profile.convolutions.share).toBeGreaterThan(0);
      expect(r.profile.convolutions.share).toBeLessThanOrEqual(1);
      const want = expected[`${r.operator} ${r.step}`];
      if (want !== undefined) expect(r.profile.convolutions.gflopPerStep * 1e9).toBeCloseTo(want, 0);
    }
    expect(report.simdCeiling.registers).toBeGreaterThan(0);
    expect(report.simdCeiling.l1Loads).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
  });
});
