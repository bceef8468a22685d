// The contract every attack must pass, built-in or plugin. Framework-agnostic: it returns
// named checks with their numbers; test/attacks-contract.test.ts asserts them for every
// registered attack, `dcnet check-attack` prints them for a plugin, and an author can call
// it from their own tests (see docs/adding-an-attack.md).
import { tf } from '../src/tf.js';
import { perturb, runUnguarded, type AttackRef } from './base.js';
import { validateDefinition } from './definition.js';
import { logitsOf } from './model.js';
import { resolveParams } from './params.js';
import { getAttack } from './registry.js';
import { misclassified } from './tensor-ops.js';
import type { AttackDefinition, LogitsFn } from './types.js';

export interface ContractCheck {
  name: string;
  passed: boolean;
  detail: string;
}

export interface ContractOptions {
  /** Parameters for the attack (e.g. fewer queries to keep the test fast). */
  params?: Record<string, unknown>;
  /** An undefended model; default: a seeded 3x3 conv + dense network on 8x8x3 inputs. */
  model?: { logits: LogitsFn; shape: [number, number, number] };
  /** Points per batch (default 16). */
  batch?: number;
  /** The large epsilon at which an undefended model must collapse (default 0.5). */
  largeEpsilon?: number;
  /** Highest accuracy allowed at the large epsilon (default 0.1). */
  maxAccuracyAtLarge?: number;
}

/** A seeded conv + dense network: undefended, confident enough to be attacked. */
export function contractModel(): { model: tf.LayersModel; logits: LogitsFn; shape: [number, number, number] } {
  const shape: [number, number, number] = [8, 8, 3];
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: shape,
        filters: 6,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 5, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  return { model, logits: logitsOf(model), shape };
}

function batchFor(logits: LogitsFn, shape: [number, number, number], n: number, seed: number) {
  return tf.tidy(() => {
    const x = tf.randomUniform([n, ...shape], 0, 1, 'float32', seed) as tf.Tensor4D;
    // Labels are the model's own predictions: every point starts clean-correct.
    const labels = tf.cast(tf.argMax(logits(x), 1), 'int32') as tf.Tensor1D;
    return { x, labels };
  });
}

const scalar = (t: tf.Tensor): number => {
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
};

/**
 * Counts reads of tensor values into JavaScript while `fn` runs. Every Tensor read
 * (dataSync, data, array, arraySync, buffer, print) goes through the engine's read/readSync;
 * backend kernels read their own memory directly and are not counted.
 */
export function countReadbacks<T>(fn: () => T): { value: T; reads: number } {
  const engine = tf.engine() as unknown as Record<'read' | 'readSync', (...a: unknown[]) => unknown>;
  const own = { read: Object.hasOwn(engine, 'read'), readSync: Object.hasOwn(engine, 'readSync') };
  const originals = { read: engine.read, readSync: engine.readSync };
  let reads = 0;
  for (const k of ['read', 'readSync'] as const) {
    engine[k] = function (this: unknown, ...a: unknown[]) {
      reads++;
      return originals[k].apply(this, a);
    };
  }
  try {
    return { value: fn(), reads };
  } finally {
    for (const k of ['read', 'readSync'] as const) {
      if (own[k]) engine[k] = originals[k];
      else delete (engine as Record<string, unknown>)[k];
    }
  }
}

/**
 * Attacks adversarial training can use: gradient attacks that are single-step or iterate with
 * an `earlyStop` switch. Evaluation-only attacks (APGD, FAB-T, ensembles) read masks back to
 * drop finished points, and are not held to the no-read-back check.
 */
export function usableInTraining(def: AttackDefinition): boolean {
  return def.needs === 'gradients' && (!def.iterative || 'earlyStop' in def.params);
}

/** The names of the checks, for tables and for tests that expect one to fail. */
export const CONTRACT = {
  identity: 'eps 0 returns the input',
  bounds: (eps: number) => `eps ${eps}: inside the ball and [0, 1], no NaN`,
  determinism: 'same seed, same result',
  leak: 'no tensor leak across batches',
  readback: 'no read-back to JavaScript with early stop off (attacks usable in training)',
  strength: (eps: number) => `undefended model collapses at eps ${eps}`,
} as const;

/**
 * Runs the contract on one attack (a registered name or a definition); every check is
 * returned, passed or not. The checks look at the attack's own output, before the base's
 * projection and tidy, so those safety nets cannot hide a broken attack.
 */
export function checkAttackContract(attack: AttackRef, options: ContractOptions = {}): ContractCheck[] {
  let def: AttackDefinition;
  if (typeof attack === 'string') def = getAttack(attack);
  else {
    validateDefinition(attack, 'checkAttackContract');
    def = attack;
  }
  const params = resolveParams(def, options.params);
  const own = options.model ? undefined : contractModel();
  const { logits, shape } = options.model ?? own!;
  const n = options.batch ?? 16;
  const largeEps = options.largeEpsilon ?? 0.5;
  const maxAcc = options.maxAccuracyAtLarge ?? 0.1;
  const raw = (x: tf.Tensor4D, y: tf.Tensor1D, eps: number, seed = 0) => runUnguarded(def, logits, x, y, eps, params, seed);
  const checks: ContractCheck[] = [];
  // A check whose attack throws fails with the error; the other checks still run.
  const check = (name: string, body: () => { passed: boolean; detail: string }) => {
    try {
      checks.push({ name, ...body() });
    } catch (err) {
      checks.push({ name, passed: false, detail: `threw: ${(err as Error).message}` });
    }
  };
  const { x, labels } = batchFor(logits, shape, n, 17);

  check(CONTRACT.identity, () => {
    const diff0 = tf.tidy(() => scalar(tf.max(tf.abs(tf.sub(raw(x, labels, 0), x)))));
    return { passed: diff0 === 0, detail: `max |x' - x| = ${diff0}` };
  });

  for (const eps of [0.03, 0.1, 0.3]) {
    check(CONTRACT.bounds(eps), () =>
      tf.tidy(() => {
        const adv = raw(x, labels, eps);
        const shapeOk = adv.shape.join('x') === x.shape.join('x');
        if (!shapeOk) return { passed: false, detail: `returned shape [${adv.shape}], expected [${x.shape}]` };
        const over = scalar(tf.max(tf.abs(tf.sub(adv, x))));
        const lo = scalar(tf.min(adv));
        const hi = scalar(tf.max(adv));
        const finite = scalar(tf.all(tf.isFinite(adv)));
        return {
          passed: over <= eps + 1e-6 && lo >= 0 && hi <= 1 && finite === 1,
          detail: `max |x' - x| = ${over} (eps ${eps}), range [${lo}, ${hi}], all finite: ${finite === 1}`,
        };
      }),
    );
  }

  check(CONTRACT.determinism, () => {
    const seedDiff = tf.tidy(() => scalar(tf.max(tf.abs(tf.sub(raw(x, labels, 0.1, 42), raw(x, labels, 0.1, 42))))));
    return { passed: seedDiff === 0, detail: `max difference ${seedDiff}` };
  });

  check(CONTRACT.leak, () => {
    // Warmed up above; three more batches must leave the tensor count where it was.
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const bt = batchFor(logits, shape, n, 100 + i);
      const adv = raw(bt.x, bt.labels, 0.1, i);
      tf.dispose([adv, bt.x, bt.labels]);
    }
    const leaked = tf.memory().numTensors - before;
    return { passed: leaked === 0, detail: `${leaked} tensors left after 3 batches` };
  });

  if (usableInTraining(def)) {
    // Adversarial training runs the attack every step with early stop off: a read-back there
    // stalls the device every step. (Early stop reads masks back on purpose: compaction.)
    const off = 'earlyStop' in def.params ? { ...params, earlyStop: false } : params;
    check(CONTRACT.readback, () => {
      const { reads } = countReadbacks(() => tf.tidy(() => void runUnguarded(def, logits, x, labels, 0.1, off, 0)));
      return { passed: reads === 0, detail: `${reads} read(s) of tensor values during one run` };
    });
  }

  check(CONTRACT.strength(largeEps), () => {
    const acc = tf.tidy(() => {
      const strong = perturb(def, logits, x, labels, largeEps, options.params);
      return 1 - scalar(tf.mean(tf.cast(misclassified(logits(strong), labels), 'float32')));
    });
    return { passed: acc <= maxAcc, detail: `accuracy ${(acc * 100).toFixed(1)}% (allowed at most ${(maxAcc * 100).toFixed(1)}%)` };
  });
  tf.dispose([x, labels]);
  own?.model.dispose();
  return checks;
}
