// The contract every registered attack must pass. Framework-agnostic: it returns named
// checks with their numbers; test/attacks-contract.test.ts asserts them for every attack,
// and a new attack's author can run it directly (see docs/adding-an-attack.md).
import { tf } from '../src/tf.js';
import { perturb } from './base.js';
import { logitsOf } from './model.js';
import { getAttack } from './registry.js';
import { misclassified } from './tensor-ops.js';
import type { LogitsFn } from './types.js';

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

/** Runs the contract on one attack; every check is returned, passed or not. */
export function checkAttackContract(attack: string, options: ContractOptions = {}): ContractCheck[] {
  const def = getAttack(attack);
  const own = options.model ? undefined : contractModel();
  const { logits, shape } = options.model ?? own!;
  const n = options.batch ?? 16;
  const largeEps = options.largeEpsilon ?? 0.5;
  const maxAcc = options.maxAccuracyAtLarge ?? 0.1;
  const run = (x: tf.Tensor4D, y: tf.Tensor1D, eps: number, seed = 0) => perturb(def.name, logits, x, y, eps, options.params, seed);
  const checks: ContractCheck[] = [];
  const { x, labels } = batchFor(logits, shape, n, 17);

  const same = run(x, labels, 0);
  const diff0 = scalar(tf.max(tf.abs(tf.sub(same, x))));
  checks.push({ name: 'eps 0 returns the input', passed: diff0 === 0, detail: `max |x' - x| = ${diff0}` });
  same.dispose();

  for (const eps of [0.03, 0.1, 0.3]) {
    const adv = run(x, labels, eps);
    const over = scalar(tf.max(tf.abs(tf.sub(adv, x))));
    const lo = scalar(tf.min(adv));
    const hi = scalar(tf.max(adv));
    const finite = scalar(tf.all(tf.isFinite(adv)));
    checks.push({
      name: `eps ${eps}: inside the ball and [0, 1], no NaN`,
      passed: over <= eps + 1e-6 && lo >= 0 && hi <= 1 && finite === 1,
      detail: `max |x' - x| = ${over}, range [${lo}, ${hi}], all finite: ${finite === 1}`,
    });
    adv.dispose();
  }

  const a = run(x, labels, 0.1, 42);
  const b = run(x, labels, 0.1, 42);
  const seedDiff = scalar(tf.max(tf.abs(tf.sub(a, b))));
  checks.push({ name: 'same seed, same result', passed: seedDiff === 0, detail: `max difference ${seedDiff}` });
  tf.dispose([a, b]);

  // Warm-up above; now three more batches must leave the tensor count where it was.
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    const bt = batchFor(logits, shape, n, 100 + i);
    const adv = run(bt.x, bt.labels, 0.1, i);
    tf.dispose([adv, bt.x, bt.labels]);
  }
  const leaked = tf.memory().numTensors - before;
  checks.push({ name: 'no tensor leak across batches', passed: leaked === 0, detail: `${leaked} tensors left after 3 batches` });

  const strong = run(x, labels, largeEps);
  const acc = 1 - scalar(tf.mean(tf.cast(misclassified(tf.tidy(() => logits(strong)), labels), 'float32')));
  checks.push({
    name: `undefended model collapses at eps ${largeEps}`,
    passed: acc <= maxAcc,
    detail: `accuracy ${(acc * 100).toFixed(1)}% (allowed at most ${(maxAcc * 100).toFixed(1)}%)`,
  });
  tf.dispose([strong, x, labels]);
  own?.model.dispose();
  return checks;
}
