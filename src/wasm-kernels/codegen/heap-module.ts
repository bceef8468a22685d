// Generated kernels run inside the wasm backend's own memory: a module compiled from
// WasmFunctions imports the backend's WebAssembly.Memory and receives tensors as byte
// addresses. Modules are compiled once per key (a kernel and the shapes it was specialised
// for) and kept for the life of the backend's memory.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeModule, type WasmFunction } from './emitter.js';
import type { TensorInfo } from '../wasm-backend.js';

/** The parts of BackendWasm (tfjs-backend-wasm) that locate tensors on its heap. */
interface HeapBackend {
  wasm: { asm?: { memory?: WebAssembly.Memory } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

/** A compiled module's exports: each generated function takes i32 arguments. */
export type GeneratedExports = Record<string, (...args: number[]) => void>;

const modules = new WeakMap<WebAssembly.Memory, Map<string, GeneratedExports>>();

/** The wasm backend's memory, which generated modules import. */
export function heapMemory(backend: unknown): WebAssembly.Memory {
  const memory = (backend as HeapBackend).wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new Error('The wasm backend does not expose its memory; generated kernels cannot run.');
  }
  return memory;
}

/** Byte address of a tensor's data on the wasm heap. */
export function heapAddress(backend: unknown, t: TensorInfo): number {
  const entry = (backend as HeapBackend).dataIdMap.get(t.dataId);
  if (!entry) throw new Error('tensor data is not on the wasm backend');
  return entry.memoryOffset;
}

/**
 * The module key of kernel `name` specialised on `shape`: every field but the batch size,
 * which generated kernels take as an argument (so one module serves a short last batch).
 */
export function shapeKey(name: string, shape: object): string {
  const fields = Object.entries(shape)
    .filter(([field]) => field !== 'batch')
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return `${name}/${fields.map(([field, value]) => `${field}=${String(value)}`).join(',')}`;
}

/** The module for `key`, built by `build` and compiled on first use. */
export function generatedKernels(backend: unknown, key: string, build: () => WasmFunction[]): GeneratedExports {
  const memory = heapMemory(backend);
  let byKey = modules.get(memory);
  if (!byKey) modules.set(memory, (byKey = new Map()));
  let exports = byKey.get(key);
  if (!exports) {
    const bytes = encodeModule(build());
    dumpModule(key, bytes);
    const module = new WebAssembly.Module(bytes);
    exports = new WebAssembly.Instance(module, { env: { memory } }).exports as GeneratedExports;
    byKey.set(key, exports);
  }
  return exports;
}

/** Whether generated kernels can run on this backend (its memory is reachable). */
export function canGenerate(backend: unknown): boolean {
  try {
    heapMemory(backend);
    return true;
  } catch {
    return false;
  }
}

/** With DCNET_WASM_DUMP=<dir>, every module compiled is also written there (for wasm2wat). */
function dumpModule(key: string, bytes: Uint8Array): void {
  const dir = process.env.DCNET_WASM_DUMP;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${key.replace(/[^\w.=,-]+/g, '_')}.wasm`), bytes);
}
