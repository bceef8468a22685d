// A benchmark worker thread: one TF.js runtime, runs the cells the pool sends it.
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../backend.js';
import { serializeError } from '../errors.js';
import { VERSION } from '../version.js';
import { loadRecordedPlugins } from '../../attacks/plugins.js';
import { executeCell } from './executors.js';
import type { Cell } from './cells.js';
import type { WorkerSetup } from './runner.js';
import type { WorkerMessage } from './worker-pool.js';

const port = parentPort!;
const setup = workerData as WorkerSetup;
const post = (msg: WorkerMessage) => port.postMessage(msg);

const backend = await initBackend(setup.backend);
// The main process loaded the plugins already; a worker that cannot (the file changed since)
// still reports ready, and fails each of its cells with the reason instead of hanging the pool.
const pluginFailure = await loadRecordedPlugins(setup.plugins).then(
  () => undefined,
  (err: Error) => err,
);
post({ type: 'ready' });

port.on('message', async ({ taskId, task }: { taskId: string; task: Cell }) => {
  try {
    if (pluginFailure) throw pluginFailure;
    const result = await executeCell(task, setup, (text, fraction) => post({ type: 'progress', taskId, text, fraction }));
    post({ type: 'done', taskId, value: { result, backend: backend.name, toolkitVersion: VERSION } });
  } catch (err) {
    post({ type: 'failed', taskId, error: serializeError(err) });
  }
});
