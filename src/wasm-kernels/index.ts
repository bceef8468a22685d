// The project's kernels for TF.js's WebAssembly backend: the convolution (forward and both
// gradients) and max-pool gradient that the backend lacks (Conv2DBackpropFilter) or runs
// slowly, mostly as generated wasm (codegen/) on the backend's heap, and matrix products with
// transposed operands, so that ordinary automatic differentiation trains on wasm fast;
// Identity and same-type Cast share their input's data instead of copying it.
// Installed by src/backend.ts when the wasm backend starts.
import { tf } from '../tf.js';
import { castConfig, identityConfig } from './aliasing.js';
import { batchMatMulConfig } from './batch-mat-mul.js';
import { conv2dConfig } from './conv2d.js';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.js';
import { maxPoolGradConfig } from './max-pool-grad.js';
import { multiplyConfig } from './multiply.js';
import { captureBuiltIns } from './wasm-backend.js';

/** Every kernel this module registers for the wasm backend. */
export const WASM_KERNELS: readonly tf.KernelConfig[] = [
  conv2dConfig,
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  maxPoolGradConfig,
  multiplyConfig,
  batchMatMulConfig,
  identityConfig,
  castConfig,
];

/** Built-in wasm kernels our composites call. */
const BUILT_INS_USED = ['Conv2D', 'PadV2', 'Transpose', 'BatchMatMul', 'Multiply', 'Identity', 'Cast'] as const;

let installed = false;

/** Registers the kernels (once) if the engine runs on wasm; says whether they are active. */
export function installWasmKernels(engineName: string): boolean {
  if (engineName !== 'wasm') return false;
  if (installed) return true;
  captureBuiltIns(BUILT_INS_USED);
  for (const config of WASM_KERNELS) {
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  installed = true;
  return true;
}
