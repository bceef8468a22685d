// The few parts of the wasm backend's object our kernels use, and a scope that runs the
// backend's own kernels (XNNPACK convolution, transpose, ...) on TensorInfos and frees every
// intermediate, so a composite kernel leaks nothing.
import { tf } from '../tf.js';
import { UserError } from '../errors.js';
import { heapAddress, heapMemory } from './codegen/heap-module.js';

export type TensorInfo = tf.TensorInfo;

/** What TF.js passes to a kernel function. */
export interface KernelArgs<Inputs, Attrs = object> {
  inputs: Inputs;
  attrs: Attrs;
  backend: unknown;
}

/** The wasm backend's methods used here (BackendWasm in @tensorflow/tfjs-backend-wasm). */
export interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Runs the backend's kernels; intermediates are freed by `dispose()` unless `keep`-marked. */
export class KernelScope {
  private readonly owned: TensorInfo[] = [];

  constructor(readonly backend: WasmBackend) {}

  /** Runs the wasm backend's own kernel `name` (not ours: it may be the one we replace). */
  run(name: string, inputs: Record<string, TensorInfo>, attrs: object = {}): TensorInfo {
    const kernel = builtInKernel(name);
    const out = kernel({ inputs, attrs, backend: this.backend }) as TensorInfo;
    this.owned.push(out);
    return out;
  }

  /** A new float32 tensor on the wasm heap (uninitialised). */
  alloc(shape: number[]): TensorInfo {
    const out = this.backend.makeOutput(shape, 'float32');
    this.owned.push(out);
    return out;
  }

  /**
   * Float32 view of a tensor's heap memory, on the memory generated modules import (never a
   * cached heap array). Take views only after the last allocation of a step: growing the
   * heap detaches earlier views.
   */
  view(t: TensorInfo): Float32Array {
    const size = t.shape.reduce((a, b) => a * b, 1);
    return new Float32Array(heapMemory(this.backend).buffer, heapAddress(this.backend, t), size);
  }

  /** The same data seen with another shape (no copy; freed with the original). */
  reshape(t: TensorInfo, shape: number[]): TensorInfo {
    return { dataId: t.dataId, shape, dtype: t.dtype };
  }

  /** Frees every intermediate except `result`'s data, which is returned to the engine. */
  finish(result: TensorInfo): TensorInfo {
    for (const t of this.owned) if (t.dataId !== result.dataId) this.backend.disposeData(t.dataId);
    this.owned.length = 0;
    return result;
  }

  /** Frees everything (on error). */
  dispose(): void {
    for (const t of this.owned) this.backend.disposeData(t.dataId);
    this.owned.length = 0;
  }
}

/** Runs `body` in a scope whose intermediates are always freed. */
export function withScope(backend: unknown, body: (s: KernelScope) => TensorInfo): TensorInfo {
  const scope = new KernelScope(backend as WasmBackend);
  try {
    return scope.finish(body(scope));
  } catch (err) {
    scope.dispose();
    throw err;
  }
}

type KernelFunc = (args: { inputs: object; attrs: object; backend: unknown }) => unknown;

/** The wasm backend's built-in kernels, captured before ours replace any of them. */
const builtInKernels = new Map<string, KernelFunc>();

export function captureBuiltIns(names: readonly string[]): void {
  for (const name of names) {
    if (builtInKernels.has(name)) continue;
    const config = tf.getKernel(name, 'wasm');
    if (config) builtInKernels.set(name, config.kernelFunc as KernelFunc);
  }
}

/** The wasm backend's own kernel `name`, captured at install time. */
export function builtInKernel(name: string): KernelFunc {
  const k = builtInKernels.get(name);
  if (!k) throw new Error(`wasm backend kernel '${name}' is not available (was it captured?)`);
  return k;
}

/** Rejects what the wasm backend never supports: NCHW tensors. */
export function requireChannelsLast(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`${kernel} on wasm supports only NHWC (channels last), got ${dataFormat}.`);
  }
}

/** A failed allocation of the backend's heap, which is limited to 4 GiB. */
export class WasmHeapExhausted extends UserError {
  override name = 'WasmHeapExhausted';
}

/**
 * Makes the backend's allocator throw when it fails. Unchecked, a failed malloc returns
 * address 0 and the backend writes the new tensor over the start of its own heap, which
 * surfaced as "memory access out of bounds" or "Aborted()" somewhere later.
 */
export function guardAllocations(backend: unknown): void {
  const wasm = (backend as { wasm: { _malloc: (bytes: number) => number; __guarded?: boolean } }).wasm;
  if (wasm.__guarded) return;
  // Emscripten's first _malloc call swaps in the raw export: the self-test has made it.
  const malloc = wasm._malloc.bind(wasm);
  wasm._malloc = (bytes: number) => {
    const at = malloc(bytes);
    if (at === 0 && bytes > 0) {
      const heap = (heapMemory(backend).buffer.byteLength / 2 ** 30).toFixed(2);
      throw new WasmHeapExhausted(
        `The wasm backend's heap (${heap} GiB of at most 4 GiB) cannot hold another ${(bytes / 2 ** 20).toFixed(1)} MiB: ` +
          'use a smaller --batch, or the tensorflow backend.',
      );
    }
    return at;
  };
  wasm.__guarded = true;
}
