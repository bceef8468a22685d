// A benchmark worker thread: one TF.js runtime, runs the cells the pool sends it.
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../backend.js';
import { VERSION } from '../version.js';
import { executeCell } from './executors.js';
import type { Cell } from './cells.js';
import type { WorkerSetup } from './runner.js';
import type { WorkerMessage } from './worker-pool.js';

const USER_ERRORS = new Set(['UsageError', 'OptionError', 'DataError', 'ZooError', 'AttackError', 'ProfileError', 'BackendError', 'FileError']);

const port = parentPort!;
const setup = workerData as WorkerSetup;
const post = (msg: WorkerMessage) => port.postMessage(msg);

const backend = await initBackend(setup.backend);
post({ type: 'ready' });

port.on('message', async ({ taskId, task }: { taskId: string; task: Cell }) => {
  try {
    const result = await executeCell(task, setup, (text, fraction) => post({ type: 'progress', taskId, text, fraction }));
    post({ type: 'done', taskId, value: { result, backend: backend.name, toolkitVersion: VERSION } });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    post({ type: 'failed', taskId, message: e.message, stack: e.stack, userError: USER_ERRORS.has(e.name) });
  }
});
