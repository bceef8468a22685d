// Which path the wasm kernels take (issue 11): installed after a self-test, the backend's
// own kernels when the self-test fails or DCNET_WASM_KERNELS=off; and the kernels at the
// shapes of decoupled cnn9 with a heap that grows between allocation and kernel run and
// during a kernel (issue 10).
import { execFileSync, spawnSync } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import { currentBackend, initBackend } from '../src/backend.js';
import { onBackend, relativeDifference } from '../src/eval/cross-backend.js';
import { heapMemory } from '../src/wasm-kernels/codegen/heap-module.js';
import { kernelSelfTest } from '../src/wasm-kernels/self-test.js';
import { seededUniform } from './helpers/reference.js';

const BUILT_INS = ['Conv2D', 'PadV2', 'Transpose'];

type Wasm = { _malloc(n: number): number; _free(p: number): void };
type Backend = { wasm: Wasm; dataIdMap: { get(id: object): { memoryOffset: number } | undefined }; makeOutput: Function };

let backend: Backend;
beforeAll(async () => {
  await initBackend('wasm');
  backend = tf.findBackend('wasm') as unknown as Backend;
});

/** The backend object with some fields replaced (the rest are the real ones). */
function changed(overrides: Record<string, unknown>): unknown {
  return new Proxy(backend, {
    get: (target, key) => {
      if (key in overrides) return overrides[key as string];
      const value = Reflect.get(target, key, target);
      // Methods run on the real backend (its own map), the self-test reads the replaced fields.
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('the self-test decides whether the generated kernels are installed', () => {
  it('passes on this TF.js, and the kernels are installed', () => {
    expect(kernelSelfTest(backend, BUILT_INS)).toBeUndefined();
    expect(currentBackend().fastKernels).toBe(true);
    expect(currentBackend().description).toContain('fast training kernels');
  });

  it('fails when the backend hides its memory', () => {
    expect(kernelSelfTest(changed({ wasm: { ...backend.wasm, asm: {} } }), BUILT_INS)).toMatch(/does not expose its memory/);
  });

  it('fails when the data map does not say where a tensor is', () => {
    const dataIdMap = { get: (id: object) => ({ memoryOffset: backend.dataIdMap.get(id)!.memoryOffset + 64 }) };
    expect(kernelSelfTest(changed({ dataIdMap }), BUILT_INS)).toMatch(/not at the heap address/);
  });

  it('fails when a built-in kernel the composites call is missing', () => {
    expect(kernelSelfTest(backend, ['NoSuchKernel'])).toMatch(/no NoSuchKernel kernel/);
  });
});

describe('DCNET_WASM_KERNELS', () => {
  const info = (value: string | undefined) =>
    spawnSync(process.execPath, ['bin/dcnet.js', 'info', '--backend', 'wasm', '--json'], {
      env: { ...process.env, DCNET_WASM_KERNELS: value },
      encoding: 'utf8',
    });

  it('off keeps the backend kernels and dcnet info says so; on installs them', () => {
    const off = JSON.parse(info('off').stdout) as { backendDescription: string };
    expect(off.backendDescription).toContain('built-in kernels only: turned off by DCNET_WASM_KERNELS=off');
    const on = JSON.parse(execFileSync(process.execPath, ['bin/dcnet.js', 'info', '--backend', 'wasm', '--json'], { encoding: 'utf8', env: { ...process.env, DCNET_WASM_KERNELS: 'on' } }));
    expect(on.backendDescription).toContain('fast training kernels');
  });

  it('any other value is refused with one line', () => {
    const r = info('maybe');
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim()).toBe("dcnet: Invalid DCNET_WASM_KERNELS='maybe'. Valid values: on, off (off keeps the wasm backend's own kernels).");
  });
});

/** Grows the heap through the backend's allocator (which updates its views), then frees. */
function growHeap(): void {
  const memory = heapMemory(backend);
  const size = memory.buffer.byteLength;
  const blocks: number[] = [];
  while (memory.buffer.byteLength === size) blocks.push(backend.wasm._malloc(1 << 20));
  for (const p of blocks) backend.wasm._free(p);
}

interface KernelCall {
  kernel: string;
  inputs: Record<string, number[]>;
  attrs: Record<string, unknown>;
}

/** Runs a kernel on a backend from seeded inputs; `during` runs before each of its allocations. */
function runKernel(call: KernelCall, seed: number, during?: () => void): Float32Array {
  const inputs = Object.fromEntries(
    Object.entries(call.inputs).map(([k, shape], i) => [k, tf.tensor(seededUniform(shape.reduce((a, b) => a * b), seed + i), shape)]),
  );
  const original = backend.makeOutput;
  let grown = 0;
  if (during && tf.getBackend() === 'wasm') {
    growHeap(); // between the inputs' allocation and the kernel run
    backend.makeOutput = (...args: unknown[]) => {
      if (grown++ === 0) during(); // and inside the kernel, at its first allocation
      return (original as (...a: unknown[]) => unknown).apply(backend, args);
    };
  }
  try {
    const out = tf.engine().runKernel(call.kernel, inputs, call.attrs as never) as tf.Tensor;
    const values = out.dataSync() as Float32Array;
    tf.dispose([out, ...Object.values(inputs)]);
    return values;
  } finally {
    backend.makeOutput = original;
  }
}

// Decoupled cnn9's first stage (28x28, 128 channels; the Multiply that crashed at batch 128),
// convolutions at batch 2 so the cpu reference is quick.
const CNN9: KernelCall[] = [
  { kernel: 'Conv2D', inputs: { x: [2, 28, 28, 128], filter: [3, 3, 128, 128] }, attrs: { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 } },
  { kernel: 'Conv2DBackpropInput', inputs: { dy: [2, 28, 28, 128], filter: [3, 3, 128, 128] }, attrs: { inputShape: [2, 28, 28, 128], strides: 1, pad: 'same', dataFormat: 'NHWC' } },
  // (the cpu backend's filter gradient is slow loops: half the size, one image)
  { kernel: 'Conv2DBackpropFilter', inputs: { x: [1, 14, 14, 128], dy: [1, 14, 14, 128] }, attrs: { filterShape: [3, 3, 128, 128], strides: 1, pad: 'same', dataFormat: 'NHWC' } },
  { kernel: 'Multiply', inputs: { a: [128, 28, 28, 128], b: [128, 28, 28, 1] }, attrs: {} },
];

describe('kernels at decoupled cnn9 shapes, with a heap that grows before and during the run', () => {
  afterEach(async () => {
    await tf.setBackend('wasm');
  });
  for (const call of CNN9) {
    it(`${call.kernel} ${JSON.stringify(call.inputs)}`, async () => {
      const size = heapMemory(backend).buffer.byteLength;
      const wasm = await onBackend('wasm', () => runKernel(call, 40, growHeap));
      expect(heapMemory(backend).buffer.byteLength).toBeGreaterThan(size);
      const cpu = await onBackend('cpu', () => runKernel(call, 40));
      expect(relativeDifference(wasm, cpu)).toBeLessThan(1e-5);
    });
  }
});
