// Transfer examples computed once on the source and reused for other targets give the same
// numbers as computing them for each target, and the source is not attacked again.
import { describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import type { LogitsFn } from '../attacks/index.js';
import { clearTransferCache, evaluate, type EvaluationResult, type TransferCache } from '../src/eval/index.js';
import { linearModel } from './helpers/tiny-models.js';
import { seededUniform } from './helpers/reference.js';

const shape: [number, number, number] = [4, 4, 1];
const n = 24;
const transferOnly = (r: EvaluationResult) =>
  r.attacks.filter((a) => a.kind === 'transfer').map((a) => a.results.map((e) => [a.label, e.epsilon, e.robust.correct, e.attacked, e.maxPerturbation]));

describe('transfer cache', () => {
  it('reuses the source examples across targets with identical results', async () => {
    const source = linearModel(shape, 3, 99, 1);
    const targets = [linearModel(shape, 3, 5, 1), linearModel(shape, 3, 6, 1)];
    const images = seededUniform(n * 16, 3, 0, 1);
    const labels = new Int32Array(n).map((_, i) => i % 3);
    let sourceCalls = 0;
    const counted: LogitsFn = (x) => {
      sourceCalls++;
      return source.logits(x);
    };
    const run = (target: LogitsFn, transferCache?: TransferCache) =>
      evaluate({
        logits: target,
        source: { logits: counted, name: 'src' },
        images,
        labels,
        shape,
        batch: 10,
        checks: false,
        attacks: [
          { name: 'fgsm', epsilons: [0.05, 0.2], transfer: true },
          { name: 'bim', epsilons: [0.05, 0.2], params: { steps: 5 }, transfer: true },
        ],
        ...(transferCache ? { transferCache } : {}),
      });
    const cache: TransferCache = new Map();
    const before = tf.memory().numTensors;
    for (const t of targets) {
      sourceCalls = 0;
      const plain = await run(t.logits);
      const uncachedCalls = sourceCalls;
      sourceCalls = 0;
      const cached = await run(t.logits, cache);
      expect(transferOnly(cached)).toEqual(transferOnly(plain));
      if (t === targets[1]) expect(sourceCalls).toBe(0); // everything came from the cache
      else expect(uncachedCalls).toBeGreaterThan(0);
    }
    expect(cache.size).toBe(2 * 2 * 3); // 2 attacks x 2 epsilons x 3 batches
    clearTransferCache(cache);
    expect(tf.memory().numTensors).toBe(before);
    [source, ...targets].forEach((m) => m.dispose());
  });
});
