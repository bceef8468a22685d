// The bench's scheduler: never more tasks at once than asked, and a waiting 'first' task
// (a ready evaluation) starts before every waiting 'later' one (a training), whenever queued.
import { describe, expect, it } from 'vitest';
import { priorityLimit } from '../src/bench/priority-limit.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('priorityLimit', () => {
  it('runs at most `concurrency` tasks, a waiting first-priority task before waiting later ones', async () => {
    const limit = priorityLimit(2);
    const started: string[] = [];
    let running = 0;
    let most = 0;
    const gates = new Map<string, ReturnType<typeof deferred>>();
    const task = (name: string) => async () => {
      started.push(name);
      running++;
      most = Math.max(most, running);
      const d = deferred();
      gates.set(name, d);
      await d.promise;
      running--;
      return name;
    };
    const done = ['t1', 't2', 't3', 't4'].map((n) => limit('later', task(n)));
    await tick();
    expect(started).toEqual(['t1', 't2']);
    // Queued after every training, an evaluation still starts at the next free slot.
    const e1 = limit('first', task('e1'));
    gates.get('t1')!.resolve();
    await tick();
    expect(started).toEqual(['t1', 't2', 'e1']);
    gates.get('t2')!.resolve();
    await tick();
    expect(started).toEqual(['t1', 't2', 'e1', 't3']);
    for (const n of ['e1', 't3']) gates.get(n)!.resolve();
    await tick();
    gates.get('t4')!.resolve();
    expect(await Promise.all([...done, e1])).toEqual(['t1', 't2', 't3', 't4', 'e1']);
    expect(most).toBe(2);
  });

  it('passes a failure to its caller and goes on with the rest', async () => {
    const limit = priorityLimit(1);
    const failed = limit('later', async () => {
      throw new Error('boom');
    });
    const next = limit('later', async () => 'ok');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ok');
  });
});
