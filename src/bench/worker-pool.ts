// A fixed pool of worker threads, one TF.js runtime each; parallelism across cells is how the
// benchmark uses every core. p-limit (in the runner) is the one scheduler: it never runs more
// tasks at once than the pool has workers, so the pool only hands each task an idle worker.
//
// A worker that crashes fails only the task it was running and is replaced; that task runs
// once more on the replacement. A worker that cannot start fails the run with its error.
import { Worker } from 'node:worker_threads';
import { deserializeError, serializeError, type SerializedError } from '../errors.js';

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'start-failed'; error: SerializedError }
  | { type: 'progress'; taskId: string; text: string; fraction?: number }
  | { type: 'done'; taskId: string; value: unknown }
  | { type: 'failed'; taskId: string; error: SerializedError };

/** What the pool sends a worker: a task to run, or a broadcast for every worker. */
export type PoolMessage = { type: 'task'; taskId: string; task: unknown } | { type: 'broadcast'; payload: unknown };

/** The worker died (crash, out of memory, exit) while running a task. */
export class WorkerLostError extends Error {
  override name = 'WorkerLostError';
}

/** A worker could not start (its module failed to load, its runtime could not initialise). */
export class WorkerStartError extends Error {
  override name = 'WorkerStartError';
}

interface Running {
  taskId: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  busy: boolean;
  running?: Running;
}

export interface WorkerPoolOptions {
  /** Extra runs of a task whose worker was lost (default 1). */
  retries?: number;
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private closing = false;
  /** The first start failure: every later task fails with it at once. */
  private startError?: Error;
  private readonly retries: number;

  constructor(
    size: number,
    private readonly workerFile: URL,
    private readonly workerData: unknown,
    private readonly onProgress: (taskId: string, text: string, fraction?: number) => void,
    options: WorkerPoolOptions = {},
  ) {
    this.retries = options.retries ?? 1;
    for (let i = 0; i < size; i++) {
      const slot = { busy: false } as Slot;
      this.start(slot);
      this.slots.push(slot);
    }
  }

  /** Why the pool cannot run tasks, if a worker failed to start. */
  get failure(): Error | undefined {
    return this.startError;
  }

  /** (Re)starts the slot's worker. */
  private start(slot: Slot): void {
    const worker = new Worker(this.workerFile, { workerData: this.workerData });
    let started = false;
    let markReady!: () => void;
    let failStart!: (err: Error) => void;
    slot.worker = worker;
    slot.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failStart = reject;
    });
    // Nobody may be waiting yet; the failure is still reported through `failure` and run().
    slot.ready.catch(() => {});
    const startFailed = (err: Error): void => {
      // Every worker reports the same start-up failure: the run fails with the first one.
      this.startError ??= err;
      failStart(this.startError);
    };
    worker.on('message', (msg: WorkerMessage) => {
      if (msg.type === 'ready') {
        started = true;
        markReady();
      } else if (msg.type === 'start-failed') startFailed(deserializeError(msg.error));
      else if (msg.type === 'progress') this.onProgress(msg.taskId, msg.text, msg.fraction);
      else this.settle(slot, msg);
    });
    const lost = (why: string, stack?: string): void => {
      if (slot.worker !== worker || this.closing) return;
      if (!started) {
        startFailed(Object.assign(new WorkerStartError(`a benchmark worker could not start: ${why}`), stack ? { stack } : {}));
        return;
      }
      const running = slot.running;
      slot.running = undefined;
      // The replacement starts now, so the slot is ready again when the scheduler needs it.
      this.start(slot);
      running?.reject(
        Object.assign(new WorkerLostError(`the worker running ${running.taskId} was lost: ${why}`), stack ? { stack } : {}),
      );
    };
    worker.on('error', (err) => lost(err.message, err.stack));
    worker.on('exit', (code) => lost(`it exited with code ${code}`));
  }

  private settle(slot: Slot, msg: Extract<WorkerMessage, { type: 'done' | 'failed' }>): void {
    const running = slot.running;
    if (!running || running.taskId !== msg.taskId) return;
    slot.running = undefined;
    if (msg.type === 'done') running.resolve(msg.value);
    else running.reject(deserializeError(msg.error));
  }

  private runOn<T>(slot: Slot, taskId: string, task: unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      slot.running = { taskId, resolve: resolve as (v: unknown) => void, reject };
      slot.worker.postMessage({ type: 'task', taskId, task } satisfies PoolMessage);
    });
  }

  /** Runs one task on an idle worker and resolves with its value. */
  async run<T>(taskId: string, task: unknown): Promise<T> {
    if (this.startError) throw this.startError;
    const slot = this.slots.find((s) => !s.busy);
    if (!slot) throw new Error(`WorkerPool: no idle worker for ${taskId}; limit concurrency to the pool size (p-limit).`);
    slot.busy = true;
    try {
      for (let attempt = 0; ; attempt++) {
        await slot.ready;
        try {
          return await this.runOn<T>(slot, taskId, task);
        } catch (err) {
          if (!(err instanceof WorkerLostError) || attempt >= this.retries) throw err;
        }
      }
    } finally {
      slot.busy = false;
    }
  }

  /** Sends a message to every worker that has started (e.g. "free what you keep for this source"). */
  broadcast(payload: unknown): void {
    for (const s of this.slots) s.worker.postMessage({ type: 'broadcast', payload } satisfies PoolMessage);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

/** The worker's side of the protocol: start, then answer tasks and broadcasts. */
export async function serveTasks(
  port: { postMessage(msg: WorkerMessage): void; on(event: 'message', listener: (msg: PoolMessage) => void): unknown },
  startUp: () => Promise<void> | void,
  runTask: (task: unknown, progress: (text: string, fraction?: number) => void) => Promise<unknown>,
  onBroadcast: (payload: unknown) => void = () => {},
): Promise<void> {
  try {
    await startUp();
  } catch (err) {
    port.postMessage({ type: 'start-failed', error: serializeError(err) });
    return;
  }
  port.on('message', async (msg: PoolMessage) => {
    if (msg.type === 'broadcast') {
      onBroadcast(msg.payload);
      return;
    }
    const { taskId, task } = msg;
    try {
      const value = await runTask(task, (text, fraction) => port.postMessage({ type: 'progress', taskId, text, fraction }));
      port.postMessage({ type: 'done', taskId, value });
    } catch (err) {
      port.postMessage({ type: 'failed', taskId, error: serializeError(err) });
    }
  });
  port.postMessage({ type: 'ready' });
}
