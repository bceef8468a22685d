// Chooses and starts the TF.js backend. libtensorflow (tfjs-node[-gpu]) is an optional
// dependency whose install downloads a binary from outside the npm registry, so it is often
// absent: `auto` tries the fastest backend that loads and falls back to WebAssembly.
import { UserError } from './errors.js';
import { tf } from './tf.js';
import { installWasmKernels, KernelsSettingError } from './wasm-kernels/index.js';
import { optInKernels, WITH_ENV } from './wasm-kernels/optional.js';

export const BACKEND_NAMES = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendRequest = (typeof BACKEND_NAMES)[number];
export type BackendName = Exclude<BackendRequest, 'auto'>;

export interface BackendInfo {
  /** The backend the toolkit runs on. */
  name: BackendName;
  /** The TF.js engine's own name for it (tensorflow, wasm, cpu). */
  engineName: string;
  /** Short human-readable description, printed by every command. */
  description: string;
  /** Whether the project's fast WebAssembly kernels were registered. */
  fastKernels: boolean;
  /** Why they were not, on wasm (turned off, or their self-test failed). */
  kernelNote?: string;
  /** Opt-in kernels that run (DCNET_WASM_WITH): their results differ from the default ones in the last bits. */
  optInKernels: string[];
}

/** The backend as results record it: its name, and any opt-in kernels (`wasm+winograd`). */
export function backendLabel(info: Pick<BackendInfo, 'name' | 'optInKernels'>): string {
  return [info.name, ...info.optInKernels].join('+');
}

/**
 * The engine's backend as evaluation results and checkpoints record it: its engine name, and
 * the opt-in kernels that run on it now (`wasm+winograd`), whose floats differ from the default's.
 */
export function engineBackendLabel(): string {
  const engine = tf.getBackend();
  return engine === 'wasm' && current?.fastKernels ? backendLabel({ name: 'wasm', optInKernels: optInKernels() }) : engine;
}

/** What each backend needs installed, for error messages. */
const INSTALL_HINT: Record<BackendName, string> = {
  'tensorflow-gpu':
    'npm install @tensorflow/tfjs-node-gpu@4.22.0 (needs network access to download libtensorflow 2.9.1 ' +
    'with GPU support, an NVIDIA driver, CUDA 11.2 and cuDNN 8.1 on the library path)',
  tensorflow:
    'npm install @tensorflow/tfjs-node@4.22.0 (needs network access to download libtensorflow 2.9.1)',
  wasm: 'npm install @tensorflow/tfjs-backend-wasm@4.22.0',
  cpu: 'npm install @tensorflow/tfjs-backend-cpu@4.22.0',
};

/** Loaders register a backend with the engine and return its engine name. */
const LOADERS: Record<BackendName, () => Promise<string>> = {
  'tensorflow-gpu': async () => {
    await import('@tensorflow/tfjs-node-gpu' as string);
    return 'tensorflow';
  },
  tensorflow: async () => {
    await import('@tensorflow/tfjs-node' as string);
    return 'tensorflow';
  },
  wasm: async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    return 'wasm';
  },
  cpu: async () => 'cpu',
};

const AUTO_ORDER: BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

let current: BackendInfo | undefined;

/** Hooks run after a backend starts (the fast wasm kernels register themselves here). */
const startHooks: Array<(info: BackendInfo) => Promise<boolean> | boolean> = [];
export function onBackendStart(hook: (info: BackendInfo) => Promise<boolean> | boolean): void {
  startHooks.push(hook);
}

// The wasm backend lacks a filter-gradient kernel and runs other gradients slowly.
onBackendStart((info) => {
  let status;
  try {
    status = installWasmKernels(info.engineName);
  } catch (err) {
    throw err instanceof KernelsSettingError ? new BackendError(err.message) : err;
  }
  if (status && !status.installed) info.kernelNote = status.reason;
  return status?.installed ?? false;
});

export class BackendError extends UserError {
  override name = 'BackendError';
}

function isBackendRequest(x: string): x is BackendRequest {
  return (BACKEND_NAMES as readonly string[]).includes(x);
}

async function tryStart(name: BackendName): Promise<string> {
  const engineName = await LOADERS[name]();
  const ok = await tf.setBackend(engineName);
  if (!ok) throw new Error(`TF.js could not initialise the '${engineName}' backend`);
  await tf.ready();
  if (name === 'tensorflow-gpu' && !(await hasCudaDevice())) {
    throw new Error('libtensorflow loaded but sees no CUDA device');
  }
  return engineName;
}

async function hasCudaDevice(): Promise<boolean> {
  // tfjs-node-gpu's backend says whether libtensorflow found a GPU; older builds do not.
  const b = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
  return b.isUsingGpuDevice ?? true;
}

/** Starts one backend and returns the engine's name for it; throws when it cannot load. */
export type BackendStarter = (name: BackendName) => Promise<string>;

/**
 * The backend a request gets: `auto` takes the first of tensorflow-gpu, tensorflow, wasm,
 * cpu that starts; a named backend that cannot start is an error naming what to install.
 * `start` is injectable so the choice is testable without the native packages.
 */
export async function chooseBackend(request: string, start: BackendStarter = tryStart): Promise<{ name: BackendName; engineName: string }> {
  if (!isBackendRequest(request)) {
    throw new BackendError(`Unknown backend '${request}'. Valid values: ${BACKEND_NAMES.join(', ')}.`);
  }
  const candidates = request === 'auto' ? AUTO_ORDER : [request];
  const failures: string[] = [];
  for (const name of candidates) {
    try {
      return { name, engineName: await start(name) };
    } catch (err) {
      failures.push(`${name}: ${firstLine(err)}`);
      if (request !== 'auto') {
        const missing = (err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND';
        throw new BackendError(
          `Backend '${name}' cannot load (${missing ? 'its package is not installed' : firstLine(err)}). Install it with: ${INSTALL_HINT[name]}. ` +
            `Or use --backend auto to fall back to the fastest backend that loads.`,
        );
      }
    }
  }
  throw new BackendError(`No TF.js backend could start:\n  ${failures.join('\n  ')}`);
}

/**
 * Starts the requested backend (default `auto`). Idempotent: a second call with the same
 * request returns the running backend.
 */
export async function initBackend(request: string = 'auto'): Promise<BackendInfo> {
  if (current && (request === 'auto' || request === current.name)) return current;
  const { name, engineName } = await chooseBackend(request);
  const info: BackendInfo = { name, engineName, description: '', fastKernels: false, optInKernels: [] };
  for (const hook of startHooks) info.fastKernels = (await hook(info)) || info.fastKernels;
  if (info.fastKernels) info.optInKernels = optInKernels();
  info.description = describe(info);
  current = info;
  return info;
}

function describe(info: BackendInfo): string {
  switch (info.name) {
    case 'tensorflow-gpu':
      return 'tensorflow-gpu (libtensorflow, CUDA)';
    case 'tensorflow':
      return 'tensorflow (libtensorflow, CPU)';
    case 'wasm': {
      const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD';
      const optIn = info.optInKernels.length > 0 ? `, opt-in ${info.optInKernels.join(', ')} (${WITH_ENV}; last bits differ from the default kernels)` : '';
      const kernels = info.fastKernels
        ? `fast training kernels${optIn}`
        : `built-in kernels only${info.kernelNote ? `: ${info.kernelNote}` : ''}`;
      return `wasm (TF.js WebAssembly, XNNPACK, ${simd}, ${kernels})`;
    }
    case 'cpu':
      return 'cpu (pure JavaScript; slow)';
  }
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0]!;
}

/** The running backend; throws if none was started. */
export function currentBackend(): BackendInfo {
  if (!current) throw new BackendError('No backend started: call initBackend() first.');
  return current;
}

/** Which backends can load on this machine, without switching to them. */
export async function probeBackends(): Promise<Record<BackendName, boolean>> {
  const result = {} as Record<BackendName, boolean>;
  for (const name of AUTO_ORDER) {
    if (name === 'cpu') {
      result[name] = true;
      continue;
    }
    try {
      await import(
        (name === 'wasm'
          ? '@tensorflow/tfjs-backend-wasm'
          : name === 'tensorflow'
            ? '@tensorflow/tfjs-node'
            : '@tensorflow/tfjs-node-gpu') as string
      );
      result[name] = true;
    } catch {
      result[name] = false;
    }
  }
  return result;
}
