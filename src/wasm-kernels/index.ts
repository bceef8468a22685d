// The project's kernels for TF.js's WebAssembly backend: the convolution (forward and both
// gradients) and max-pool gradient that the backend lacks (Conv2DBackpropFilter) or runs
// slowly, mostly as generated wasm (codegen/) on the backend's heap, and matrix products with
// transposed operands, so that ordinary automatic differentiation trains on wasm fast;
// Identity and same-type Cast share their input's data instead of copying it; the ReLU
// gradient and a per-pixel scale's gradient run as one pass each (gradient-routes.ts); and the
// per-channel sums and affine maps of batch normalisation (new kernels, see channel-stats.ts);
// Tile as block copies (batch norm's gradient tiles per-channel vectors, see tile.ts).
// Installed by src/backend.ts when the wasm backend starts.
import { tf } from '../tf.js';
import { castConfig, identityConfig } from './aliasing.js';
import { channelAffineConfig, channelSumsConfig } from './channel-stats.js';
import { batchMatMulConfig } from './batch-mat-mul.js';
import { conv2dConfig } from './conv2d.js';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.js';
import { maxPoolConfig } from './max-pool.js';
import { maxPoolGradConfig } from './max-pool-grad.js';
import { multiplyConfig } from './multiply.js';
import { checkWithoutSetting, WithoutSettingError } from './optional.js';
import { pixelDotConfig } from './pixel-dot.js';
import { reluGradConfig } from './relu-grad.js';
import { routeGradients } from './gradient-routes.js';
import { tileConfig } from './tile.js';
import { kernelSelfTest } from './self-test.js';
import { captureBuiltIns, guardAllocations } from './wasm-backend.js';

/** Every kernel this module registers for the wasm backend. */
export const WASM_KERNELS: readonly tf.KernelConfig[] = [
  conv2dConfig,
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  maxPoolConfig,
  maxPoolGradConfig,
  multiplyConfig,
  batchMatMulConfig,
  identityConfig,
  castConfig,
  reluGradConfig,
  pixelDotConfig,
  channelSumsConfig,
  channelAffineConfig,
  tileConfig,
];

/** Built-in wasm kernels our composites call. */
const BUILT_INS_USED = ['Conv2D', 'MaxPool', 'Transpose', 'BatchMatMul', 'Multiply', 'Identity', 'Cast', 'Tile'] as const;

/** Whether the kernels are installed, or why the backend's own kernels are kept. */
export type WasmKernelStatus = { installed: true } | { installed: false; reason: string };

/** The environment variable that turns the kernels off (`off`) or on (`on`, the default). */
export const KERNELS_ENV = 'DCNET_WASM_KERNELS';

let status: WasmKernelStatus | undefined;

/** A DCNET_WASM_KERNELS value that is neither on nor off. */
export class KernelsSettingError extends Error {
  override name = 'KernelsSettingError';
}

/** Reads DCNET_WASM_KERNELS: true unless it says `off`; any other value is a mistake. */
function kernelsWanted(): boolean {
  const value = process.env[KERNELS_ENV];
  if (value === undefined || value === '' || value === 'on') return true;
  if (value === 'off') return false;
  throw new KernelsSettingError(`Invalid ${KERNELS_ENV}='${value}'. Valid values: on, off (off keeps the wasm backend's own kernels).`);
}

/**
 * Registers the kernels (once) if the engine runs on wasm, after a self-test of the backend
 * internals they use; otherwise the backend keeps its own kernels and the status says why.
 */
export function installWasmKernels(engineName: string): WasmKernelStatus | undefined {
  if (engineName !== 'wasm') return undefined;
  if (status) return status;
  if (!kernelsWanted()) return (status = { installed: false, reason: `turned off by ${KERNELS_ENV}=off` });
  try {
    checkWithoutSetting();
  } catch (err) {
    throw err instanceof WithoutSettingError ? new KernelsSettingError(err.message) : err;
  }
  const backend = tf.findBackend('wasm');
  captureBuiltIns(BUILT_INS_USED);
  const failure = kernelSelfTest(backend, BUILT_INS_USED);
  if (failure) return (status = { installed: false, reason: `self-test failed: ${failure}` });
  guardAllocations(backend);
  for (const config of WASM_KERNELS) {
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
  routeGradients();
  return (status = { installed: true });
}
