// A benchmark worker thread: one TF.js runtime, runs the cells the pool sends it.
import { parentPort, workerData } from 'node:worker_threads';
import { backendLabel, initBackend } from '../backend.js';
import { VERSION } from '../version.js';
import { loadRecordedPlugins } from '../../attacks/plugins.js';
import { executeCell, handleBroadcast } from './executors.js';
import type { Cell } from './cells.js';
import type { WorkerSetup } from './runner.js';
import { serveTasks } from './worker-pool.js';

const setup = workerData as WorkerSetup;
let backend = '';

await serveTasks(
  parentPort!,
  async () => {
    backend = backendLabel(await initBackend(setup.backend));
    // The plugins the main process loaded and recorded, before any cell: a file changed
    // since (another sha256) fails the start, and the pool fails the run with that line.
    await loadRecordedPlugins(setup.plugins);
  },
  async (task, progress) => ({ result: await executeCell(task as Cell, setup, progress), backend, toolkitVersion: VERSION }),
  handleBroadcast,
);
