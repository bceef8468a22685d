// A benchmark worker thread: one TF.js runtime, runs the cells the pool sends it.
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../backend.js';
import { VERSION } from '../version.js';
import { executeCell, handleBroadcast } from './executors.js';
import type { Cell } from './cells.js';
import type { WorkerSetup } from './runner.js';
import { serveTasks } from './worker-pool.js';

const setup = workerData as WorkerSetup;
let backend = '';

await serveTasks(
  parentPort!,
  async () => {
    backend = (await initBackend(setup.backend)).name;
  },
  async (task, progress) => ({ result: await executeCell(task as Cell, setup, progress), backend, toolkitVersion: VERSION }),
  handleBroadcast,
);
