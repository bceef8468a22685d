// The generated kernels use private parts of the wasm backend (its heap, its map from tensor
// data to heap addresses, its allocator): a TF.js release may change any of them. Before they
// are installed, this checks that what they rely on still holds, and says what does not.
import { tf } from '../tf.js';
import { heapMemory, heapAddress } from './codegen/heap-module.js';
import { conv2dConfig } from './conv2d.js';
import type { TensorInfo, WasmBackend } from './wasm-backend.js';

/** x [1, 3, 3, 4] and filter [2, 2, 4, 4] of small integers: every sum is exact in float32. */
const X_SHAPE = [1, 3, 3, 4];
const W_SHAPE = [2, 2, 4, 4];
const xValue = (i: number) => (i % 5) - 2;
const wValue = (i: number) => (i % 3) - 1;

/** The valid, stride-1 convolution of the known inputs, computed here in plain loops. */
function expectedConvolution(): number[] {
  const out: number[] = [];
  for (let r = 0; r < 2; r++) {
    for (let c = 0; c < 2; c++) {
      for (let o = 0; o < 4; o++) {
        let sum = 0;
        for (let i = 0; i < 2; i++) {
          for (let j = 0; j < 2; j++) {
            for (let k = 0; k < 4; k++) sum += xValue(((r + i) * 3 + c + j) * 4 + k) * wValue(((i * 2 + j) * 4 + k) * 4 + o);
          }
        }
        out.push(sum);
      }
    }
  }
  return out;
}

/** What the generated kernels need from the backend object and the built-in kernels. */
function checkInternals(backend: unknown, builtIns: readonly string[]): void {
  const b = backend as Record<string, unknown> & { wasm?: Record<string, unknown> };
  for (const method of ['makeOutput', 'disposeData', 'incRef']) {
    if (typeof b[method] !== 'function') throw new Error(`the backend has no ${method}()`);
  }
  if (typeof b.wasm?._malloc !== 'function') throw new Error('the backend exposes no allocator (wasm._malloc)');
  heapMemory(backend);
  for (const name of builtIns) if (!tf.getKernel(name, 'wasm')) throw new Error(`the backend has no ${name} kernel`);
}

/** A new tensor's data must sit where the data map says, in the memory the kernels import. */
function checkDataMap(backend: WasmBackend, t: TensorInfo, values: Float32Array): void {
  const at = heapAddress(backend, t);
  const onHeap = new Float32Array(heapMemory(backend).buffer, at, values.length);
  if (!values.every((v, i) => onHeap[i] === v)) {
    throw new Error("a tensor's data is not at the heap address of the backend's data map");
  }
}

/**
 * Undefined when the generated kernels can be installed on `backend`; otherwise why not. Runs
 * the project's Conv2D (generated code) on inputs with a known answer.
 */
export function kernelSelfTest(backend: unknown, builtIns: readonly string[]): string | undefined {
  const created: TensorInfo[] = [];
  const wasm = backend as WasmBackend;
  try {
    checkInternals(backend, builtIns);
    // The backend writes the inputs itself; they must be where the data map says.
    const input = (shape: number[], value: (i: number) => number): TensorInfo => {
      const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => value(i));
      const t = { dataId: (backend as tf.KernelBackend).write(values, shape, 'float32'), shape, dtype: 'float32' as const };
      created.push(t);
      checkDataMap(wasm, t, values);
      return t;
    };
    const x = input(X_SHAPE, xValue);
    const filter = input(W_SHAPE, wValue);
    const y = conv2dConfig.kernelFunc({
      inputs: { x, filter },
      attrs: { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1 },
      backend: backend as tf.KernelBackend,
    }) as TensorInfo;
    created.push(y);
    const got = new Float32Array(heapMemory(backend).buffer, heapAddress(backend, y), 16);
    const want = expectedConvolution();
    if (!want.every((v, i) => got[i] === v)) {
      throw new Error(`a known-answer convolution gave [${Array.from(got).join(', ')}], expected [${want.join(', ')}]`);
    }
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    for (const t of created) wasm.disposeData(t.dataId);
  }
}
