// Which cell a free worker takes next. p-limit caps how many cells run at once (one per
// worker) but starts them in the order they were queued, and every training is queued at
// the start, before any evaluation is ready: a long run (the study) would train every model
// before attacking one. Here waiting tasks sit in two queues and a ready evaluation goes
// before every waiting training, so evaluated models (and the attacks' real cost) come while
// later models still train.
import pLimit from 'p-limit';

export type Priority = 'first' | 'later';

export function priorityLimit(concurrency: number): <T>(priority: Priority, task: () => Promise<T>) => Promise<T> {
  const limit = pLimit(concurrency);
  const waiting: Record<Priority, Array<() => void>> = { first: [], later: [] };
  // Counted here rather than read from p-limit, whose counts change a tick after a task ends.
  let handedOver = 0;
  const pump = () => {
    while (handedOver < concurrency) {
      const start = waiting.first.shift() ?? waiting.later.shift();
      if (!start) return;
      handedOver++;
      start();
    }
  };
  return <T>(priority: Priority, task: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      waiting[priority].push(() => {
        limit(task)
          .then(resolve, reject)
          .finally(() => {
            handedOver--;
            pump();
          });
      });
      pump();
    });
}
