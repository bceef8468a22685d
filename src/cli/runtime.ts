// Shared start-up for CLI commands: start the backend and say which one runs.
import { initBackend, type BackendInfo } from '../backend.js';

export const BACKEND_OPTION_HELP =
  'TF.js backend: auto (tensorflow-gpu, tensorflow, wasm, cpu: the first that loads), or one of them';

export async function startRuntime(backend: string = 'auto', quiet = false): Promise<BackendInfo> {
  const info = await initBackend(backend);
  if (!quiet) process.stderr.write(`backend: ${info.description}\n`);
  return info;
}

export { UsageError } from '../errors.js';
