// A fixed pool of worker threads, one TF.js runtime each; a task goes to an idle worker.
// Parallelism across cells is how the benchmark uses every core.
import { Worker } from 'node:worker_threads';
import { deserializeError, type SerializedError } from '../errors.js';

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'progress'; taskId: string; text: string; fraction?: number }
  | { type: 'done'; taskId: string; value: unknown }
  | { type: 'failed'; taskId: string; error: SerializedError };

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  busy: boolean;
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly waiting: Array<(slot: Slot) => void> = [];
  private readonly handlers = new Map<string, { resolve(v: unknown): void; reject(e: Error): void }>();

  constructor(
    size: number,
    workerFile: URL,
    workerData: unknown,
    private readonly onProgress: (taskId: string, text: string, fraction?: number) => void,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn(workerFile, workerData));
  }

  private spawn(file: URL, workerData: unknown): Slot {
    const worker = new Worker(file, { workerData });
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    worker.on('message', (msg: WorkerMessage) => {
      if (msg.type === 'ready') markReady();
      else if (msg.type === 'progress') this.onProgress(msg.taskId, msg.text, msg.fraction);
      else this.settle(msg);
    });
    worker.on('error', (err) => {
      // A crashed worker fails its task; the pool stops using it.
      for (const [id, h] of this.handlers) h.reject(Object.assign(new Error(`worker crashed while running ${id}: ${err.message}`), { stack: err.stack }));
      this.handlers.clear();
    });
    return { worker, ready, busy: false };
  }

  private settle(msg: Extract<WorkerMessage, { type: 'done' | 'failed' }>): void {
    const h = this.handlers.get(msg.taskId);
    if (!h) return;
    this.handlers.delete(msg.taskId);
    if (msg.type === 'done') h.resolve(msg.value);
    else h.reject(deserializeError(msg.error));
  }

  private acquire(): Promise<Slot> {
    const idle = this.slots.find((s) => !s.busy);
    if (idle) {
      idle.busy = true;
      return Promise.resolve(idle);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(slot: Slot): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else slot.busy = false;
  }

  /** Runs one task on an idle worker and resolves with its value. */
  async run<T>(taskId: string, task: unknown): Promise<T> {
    const slot = await this.acquire();
    try {
      await slot.ready;
      return await new Promise<T>((resolve, reject) => {
        this.handlers.set(taskId, { resolve: resolve as (v: unknown) => void, reject });
        slot.worker.postMessage({ taskId, task });
      });
    } finally {
      this.release(slot);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
