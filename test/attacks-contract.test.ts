// The attack contract, over every registered attack.
import { describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import { listAttacks, perturb } from '../attacks/index.js';
import { checkAttackContract, contractModel } from '../attacks/contract-test.js';

// Only what keeps the suite fast; every other parameter is the attack's default.
const FAST: Record<string, Record<string, unknown>> = {
  square: { queries: 100 },
  pgd: { steps: 10, relStepSize: 0.25 },
  'apgd-ce': { steps: 20 },
  'apgd-dlr': { steps: 20 },
  'apgd-t': { steps: 20, targets: 2 },
  'fab-t': { steps: 20, targets: 2 },
  autoattack: { steps: 10, targets: 2, fabSteps: 10, queries: 100 },
};

describe('every registered attack passes the contract', () => {
  for (const def of listAttacks()) {
    it(def.name, () => {
      const checks = checkAttackContract(def.name, { params: FAST[def.name] });
      const failed = checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`);
      expect(failed).toEqual([]);
      expect(checks.length).toBeGreaterThanOrEqual(7);
    });
  }
});

// Attacks that training can use (single-step, or iterative with an `earlyStop` switch) read
// nothing back with early stop off; compaction (the default) reads one mask per step, and the
// evaluation-only attacks (APGD, FAB, the ensemble) read masks to drop finished points.
const TRAINING_USABLE = listAttacks().filter((d) => d.needs === 'gradients' && (!d.iterative || 'earlyStop' in d.params));

describe('attacks usable in training never read tensors back with early stop off', () => {
  it('covers the gradient attacks of adversarial training', () => {
    expect(TRAINING_USABLE.map((d) => d.name)).toEqual(expect.arrayContaining(['fgsm', 'bim', 'pgd', 'mi-fgsm']));
  });
  for (const def of TRAINING_USABLE) {
    it(def.name, () => {
      const { model, logits, shape } = contractModel();
      const x = tf.randomUniform([4, ...shape], 0, 1, 'float32', 3) as tf.Tensor4D;
      const y = tf.tensor1d([0, 1, 2, 3], 'int32');
      const proto = Object.getPrototypeOf(x) as Record<string, (...a: unknown[]) => unknown>;
      const reads: string[] = [];
      const originals = Object.fromEntries(['dataSync', 'arraySync', 'data', 'array'].map((k) => [k, proto[k]!]));
      for (const [k, f] of Object.entries(originals)) {
        proto[k] = function (this: unknown, ...a: unknown[]) {
          reads.push(k);
          return f.apply(this, a);
        };
      }
      try {
        const off = 'earlyStop' in def.params ? { earlyStop: false } : {};
        perturb(def.name, logits, x, y, 0.1, { ...FAST[def.name], ...off }).dispose();
      } finally {
        Object.assign(proto, originals);
      }
      // (Square, score-based, does read one scalar every 20 queries and is not listed here.)
      expect(reads).toEqual([]);
      tf.dispose([x, y]);
      model.dispose();
    });
  }
});
