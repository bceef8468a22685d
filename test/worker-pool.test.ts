// The bench's worker pool: a crashed worker fails only its own task and is replaced, a lost
// task is retried once, a worker that cannot start fails the run with its error instead of
// hanging, errors keep their kind across the boundary, and transfer caches are freed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { WorkerLostError, WorkerPool, WorkerStartError } from '../src/bench/worker-pool.js';
import { runBench, whenSourceDone } from '../src/bench/runner.js';
import { planCells } from '../src/bench/cells.js';
import { loadProfile } from '../src/bench/profile.js';
import { handleBroadcast, transferCacheFor } from '../src/bench/executors.js';
import { tf } from '../src/tf.js';

const WORKER = new URL('./fixtures/pool-worker.mjs', import.meta.url);
const tmp = mkdtempSync(join(tmpdir(), 'dcnet-pool-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function withPool<T>(size: number, data: object, fn: (pool: WorkerPool, progress: string[]) => Promise<T>): Promise<T> {
  const progress: string[] = [];
  const pool = new WorkerPool(size, WORKER, data, (id, text) => progress.push(`${id}: ${text}`));
  try {
    return await fn(pool, progress);
  } finally {
    await pool.close();
  }
}

describe('WorkerPool', () => {
  it('runs tasks and passes progress through', async () => {
    await withPool(2, {}, async (pool, progress) => {
      expect(await Promise.all([pool.run('a', { op: 'echo', value: 1 }), pool.run('b', { op: 'echo', value: 2 })])).toEqual([1, 2]);
      expect(progress.sort()).toEqual(['a: echoing', 'b: echoing']);
    });
  });

  it('a crashed worker fails only its own task (after one retry) and is replaced', async () => {
    await withPool(2, {}, async (pool) => {
      const [slow, crashed] = await Promise.allSettled([
        pool.run('slow', { op: 'slow', ms: 1500, value: 'finished' }),
        pool.run('crash', { op: 'exit', ms: 50 }),
      ]);
      expect(slow).toEqual({ status: 'fulfilled', value: 'finished' });
      expect(crashed.status).toBe('rejected');
      const err = (crashed as PromiseRejectedResult).reason;
      expect(err).toBeInstanceOf(WorkerLostError);
      expect(err.message).toMatch(/the worker running crash was lost: it exited with code 3/);
      // Both slots work again: the crashed worker was replaced.
      expect(await Promise.all([pool.run('c', { op: 'echo', value: 'c' }), pool.run('d', { op: 'echo', value: 'd' })])).toEqual(['c', 'd']);
    });
  });

  it('an uncaught exception counts as a lost worker too', async () => {
    await withPool(1, {}, async (pool) => {
      await expect(pool.run('u', { op: 'uncaught' })).rejects.toThrow(/the worker running u was lost: uncaught in a timer/);
      expect(await pool.run('after', { op: 'echo', value: 'ok' })).toBe('ok');
    });
  });

  it("a lost worker's task is retried once on the replacement", async () => {
    await withPool(1, {}, async (pool) => {
      expect(await pool.run('flaky', { op: 'exit-once', marker: join(tmp, 'crashed-once') })).toBe('second try');
    });
  });

  it('a task error is not retried and keeps its kind: user errors stay UserErrors, bugs keep their stack', async () => {
    await withPool(1, {}, async (pool) => {
      const user = await pool.run('u', { op: 'user-error' }).catch((e: unknown) => e);
      expect(user).toBeInstanceOf(UserError);
      expect((user as Error).message).toBe('Unknown attack: fgsn.');
      const bug = await pool.run('b', { op: 'bug' }).catch((e: unknown) => e);
      expect(bug).not.toBeInstanceOf(UserError);
      expect((bug as Error).name).toBe('RangeError');
      expect((bug as Error).stack).toMatch(/pool-worker\.mjs/);
    });
  });

  it('a worker that cannot start fails every task with its error instead of waiting forever', async () => {
    await withPool(2, { failStart: 'user' }, async (pool) => {
      const err = await pool.run('a', { op: 'echo', value: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toBe('Unknown backend: give one that exists.');
      expect(pool.failure).toBe(err);
      await expect(pool.run('b', { op: 'echo', value: 2 })).rejects.toBe(err);
    });
    await withPool(1, { throwAtLoad: true }, async (pool) => {
      const err = await pool.run('a', { op: 'echo', value: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkerStartError);
      expect((err as Error).message).toMatch(/could not start: this worker module is broken/);
    });
  });

  it('broadcasts reach every worker', async () => {
    await withPool(2, {}, async (pool) => {
      pool.broadcast({ sourceDone: 'src' });
      const seen = await Promise.all([pool.run('a', { op: 'broadcasts' }), pool.run('b', { op: 'broadcasts' })]);
      expect(seen).toEqual([[{ sourceDone: 'src' }], [{ sourceDone: 'src' }]]);
    });
  });
});

describe('the bench runner on the pool', () => {
  it('a run whose workers cannot start fails with their error', async () => {
    const profile = loadProfile('tiny');
    const run = runBench({ profile, runDir: join(tmp, 'run'), zooDir: join(tmp, 'zoo'), jobs: 2, shard: { index: 0, count: 1 }, backend: 'no-such-backend', progress: false });
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/Unknown backend 'no-such-backend'/);
  });

  it("frees a source's transfer examples once its last target is settled", () => {
    const cells = planCells(loadProfile('tiny'));
    const targets = cells.flatMap((c) => (c.kind === 'evaluate' ? [c] : []));
    expect(targets.length).toBeGreaterThan(1);
    const done: string[] = [];
    const settled = whenSourceDone(cells, (id) => done.push(id));
    for (const c of cells.filter((c) => c.kind === 'train')) settled(c);
    for (const c of targets.slice(0, -1)) settled(c);
    expect(done).toEqual([]);
    settled(targets.at(-1)!);
    expect(done).toEqual([targets[0]!.source.id]);
  });

  it("a worker disposes a source's cached examples when told the source is done", () => {
    const before = tf.memory().numTensors;
    const cache = transferCacheFor('src-model');
    cache.set('fgsm|0.1|0', tf.zeros([2, 4, 4, 1]) as tf.Tensor4D);
    expect(tf.memory().numTensors).toBe(before + 1);
    handleBroadcast({ sourceDone: 'src-model' });
    expect(tf.memory().numTensors).toBe(before);
    expect(transferCacheFor('src-model').size).toBe(0);
  });
});
