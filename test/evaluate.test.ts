// The evaluation engine: accuracy definitions on constructed cases, input validation,
// memory, and every sanity flag triggered by a deliberately broken model or attack.
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import type { LogitsFn } from '../attacks/index.js';
import { evaluate, runChecks, wilsonInterval, worstCase, type CheckInputs, type EvaluationResult, type RunRecord } from '../src/eval/index.js';
import { linearModel, maskedGradient } from './helpers/tiny-models.js';
import { seededUniform } from './helpers/reference.js';

/** 1-pixel images, 2 classes, class 1 iff x > 0.5 (logits scaled so FGSM is exact). */
const threshold: LogitsFn = (x) =>
  tf.tidy(() => {
    const v = tf.reshape(x, [x.shape[0], 1]);
    return tf.concat([tf.mul(tf.sub(0.5, v), 10), tf.mul(tf.sub(v, 0.5), 10)], 1) as tf.Tensor2D;
  });

const flag = (r: EvaluationResult, id: string) => r.checks.find((c) => c.id === id)!;

describe('accuracy definitions', () => {
  it('Wilson interval matches the closed form', () => {
    const [lo, hi] = wilsonInterval(8, 10);
    expect(lo).toBeCloseTo(0.4902, 4);
    expect(hi).toBeCloseTo(0.9433, 4);
    expect(wilsonInterval(0, 50)[0]).toBe(0);
    expect(wilsonInterval(0, 50)[1]).toBeCloseTo(0.07135, 4);
  });

  it('clean, robust (RobustBench) and conditional robust (ART) on a constructed case', async () => {
    // 0.2 labelled 1 is a clean mistake; FGSM at 0.1 flips 0.45 and 0.55; at 0.25 also 0.3 and 0.7.
    const images = new Float32Array([0.1, 0.3, 0.45, 0.55, 0.7, 0.9, 0.2]);
    const labels = new Int32Array([0, 0, 0, 1, 1, 1, 1]);
    const r = await evaluate({ logits: threshold, images, labels, shape: [1, 1, 1], attacks: [{ name: 'fgsm', epsilons: [0, 0.1, 0.25] }], checks: false });
    expect(r.clean).toMatchObject({ correct: 6, n: 7 });
    const [e0, e1, e2] = r.attacks[0]!.results;
    expect(e0!.robust.correct).toBe(6);
    expect(e1!.robust).toMatchObject({ correct: 4, n: 7 });
    expect(e1!.conditionalRobust).toMatchObject({ correct: 4, n: 6 });
    expect(e2!.robust.accuracy).toBeCloseTo(2 / 7);
    expect(e2!.conditionalRobust.accuracy).toBeCloseTo(2 / 6);
    expect(e2!.attacked).toBe(6); // the clean mistake is not attacked
    expect(e2!.successRate).toBeCloseTo(4 / 6);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('worst case is per point, not the minimum of averages', () => {
    const a = { label: 'a', epsilon: 0.1, robust: Uint8Array.from([1, 1, 0, 0]) };
    const b = { label: 'b', epsilon: 0.1, robust: Uint8Array.from([1, 0, 1, 0]) };
    const [wc] = worstCase([a, b], 4, 3);
    expect(wc!.robust.correct).toBe(1);
    expect(wc!.conditionalRobust.accuracy).toBeCloseTo(1 / 3);
  });
});

describe('input validation', () => {
  const base = { logits: threshold, labels: new Int32Array([0, 1]), shape: [1, 1, 1] as [number, number, number] };
  it('refuses inputs outside [0, 1], saying how to fix them', async () => {
    await expect(evaluate({ ...base, images: new Float32Array([12, 200]), attacks: [{ name: 'fgsm', epsilons: [0.1] }] })).rejects.toThrow(/divide by 255/);
    await expect(evaluate({ ...base, images: new Float32Array([-1.2, 0.5]), attacks: [{ name: 'fgsm', epsilons: [0.1] }] })).rejects.toThrow(/normalisation inside the model/);
  });
  it('refuses 0-255 epsilons, unknown attacks and parameters, transfer without a source', async () => {
    const images = new Float32Array([0.2, 0.8]);
    await expect(evaluate({ ...base, images, attacks: [{ name: 'fgsm', epsilons: [8] }] })).rejects.toThrow(/8\/255/);
    await expect(evaluate({ ...base, images, attacks: [{ name: 'deepfool', epsilons: [0.1] }] })).rejects.toThrow(/Unknown attack/);
    await expect(evaluate({ ...base, images, attacks: [{ name: 'bim', epsilons: [0.1], params: { step: 1 } }] })).rejects.toThrow(/no parameter 'step'/);
    await expect(evaluate({ ...base, images, attacks: [{ name: 'bim', epsilons: [0.1], transfer: true }] })).rejects.toThrow(/no source model/);
  });
  it('refuses a model that returns probabilities, or flags it when allowed', async () => {
    const probs: LogitsFn = (x) => tf.tidy(() => tf.softmax(threshold(x)));
    const images = new Float32Array([0.2, 0.8]);
    const attacks = [{ name: 'fgsm', epsilons: [0.1] }];
    await expect(evaluate({ ...base, logits: probs, images, attacks })).rejects.toThrow(/look like probabilities/);
    const r = await evaluate({ ...base, logits: probs, images, attacks, allowProbabilities: true, checks: false });
    expect(flag(r, 'logits-not-probabilities').status).toBe('failed');
  });
});

describe('sanity flags', () => {
  const shape: [number, number, number] = [4, 4, 1];
  const n = 24;
  function data(logits: LogitsFn) {
    const images = seededUniform(n * 16, 3, 0, 1);
    const pred = tf.tidy(() => tf.argMax(logits(tf.tensor4d(images, [n, ...shape])), 1));
    const labels = new Int32Array(pred.dataSync());
    pred.dispose();
    return { images, labels, shape };
  }

  it('a sound model passes every check that applies, without leaking tensors', async () => {
    const m = linearModel(shape, 3, 5, 1);
    const points = data(m.logits);
    const before = tf.memory().numTensors;
    const r = await evaluate({ logits: m.logits, ...points, attacks: [{ name: 'fgsm', epsilons: [0, 0.05, 0.3] }, { name: 'bim', epsilons: [0.05, 0.3] }, { name: 'square', epsilons: [0.05], params: { queries: 30 } }], batch: 10 });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.flags.map((f) => f.message)).toEqual([]);
    expect(r.checks.filter((c) => c.status === 'passed').map((c) => c.id).sort()).toEqual(
      ['collapse-at-large-eps', 'eps0-identity', 'input-gradients', 'inside-ball-and-bounds', 'iterative-vs-single-step', 'logits-not-probabilities', 'monotone-in-eps', 'random-noise-baseline', 'white-box-vs-black-box'].sort(),
    );
    expect(r.worstCase.map((w) => w.epsilon)).toEqual([0.05, 0.3]);
    expect(r.verdict.label).toBe('robustness-measured');
    expect(r.verdict.measuring).toContain('bim at eps 0.3');
    m.dispose();
  });

  it('a gradient-masking model raises collapse, black-box, noise and gradient flags', async () => {
    const m = linearModel(shape, 3, 5, 1);
    const masked = maskedGradient(m.logits);
    const r = await evaluate({ logits: masked, ...data(m.logits), attacks: [{ name: 'bim', epsilons: [0.1, 0.3] }, { name: 'square', epsilons: [0.1, 0.3], params: { queries: 40 } }] });
    for (const id of ['collapse-at-large-eps', 'white-box-vs-black-box', 'random-noise-baseline', 'input-gradients']) expect(flag(r, id).status, id).toBe('failed');
    expect(flag(r, 'white-box-vs-black-box').message).toMatch(/square\(queries=40\) beats bim by [\d.]+ percentage points at eps 0.1.*not reliable/);
    expect(flag(r, 'input-gradients').numbers.allZero).toBe(n);
    // Labelled masked, not noise-fragile: its BIM rows are weaker than Square, not noise-level fragility.
    expect(r.verdict.label).toBe('gradient-masking');
    expect(r.verdict.rows.find((v) => v.label === 'bim' && v.epsilon === 0.1)!.verdict).toBe('masked');
    expect(r.verdict.measuring).not.toContain('bim at eps 0.1');
    m.dispose();
  });

  it('a model that amplifies tiny input changes is labelled noise-fragile, not masked', async () => {
    // 1 pixel, class 1 iff x > 0.5, test points on a grid of 0.2; any change of 0.1 adds 20 to the
    // other class's logit (sin^2 is 0 on the grid, 1 halfway), so sign noise of eps 0.1 fools every point.
    const fragile: LogitsFn = (x) =>
      tf.tidy(() => {
        const v = tf.reshape(x, [x.shape[0], 1]);
        const s = tf.square(tf.sin(tf.mul(tf.sub(v, 0.1), 5 * Math.PI)));
        const above = tf.sigmoid(tf.mul(tf.sub(v, 0.5), 1000));
        const z0 = tf.add(tf.mul(tf.sub(0.5, v), 10), tf.mul(tf.mul(s, above), 20));
        const z1 = tf.add(tf.mul(tf.sub(v, 0.5), 10), tf.mul(tf.mul(s, tf.sub(1, above)), 20));
        return tf.concat([z0, z1], 1) as tf.Tensor2D;
      });
    const images = new Float32Array([0.1, 0.3, 0.7, 0.9, 0.1, 0.3, 0.7, 0.9]);
    const labels = new Int32Array([0, 0, 1, 1, 0, 0, 1, 1]);
    const r = await evaluate({ logits: fragile, images, labels, shape: [1, 1, 1], attacks: [{ name: 'fgsm', epsilons: [0.1] }, { name: 'bim', epsilons: [0.1] }] });
    expect(r.clean.correct).toBe(8);
    expect(r.noise[0]!.accuracy.correct).toBe(0);
    expect(r.noise[0]!.draws).toHaveLength(5);
    expect(r.verdict.label).toBe('noise-fragile');
    expect(r.verdict.noiseFragileEpsilons).toEqual([0.1]);
    expect(r.verdict.rows.map((v) => v.verdict)).toEqual(['noise-fragile', 'noise-fragile']);
  });

  it('a periodic model makes accuracy rise with epsilon; too small steps make BIM weaker than FGSM', async () => {
    // Class flips every 0.2 in pixel value: x +- 0.4 lands in the same class again.
    const periodic: LogitsFn = (x) =>
      tf.tidy(() => {
        const s = tf.sin(tf.mul(tf.reshape(x, [x.shape[0], 1]), (2 * Math.PI) / 0.4));
        return tf.concat([tf.mul(s, -5), tf.mul(s, 5)], 1) as tf.Tensor2D;
      });
    const images = new Float32Array([0.45, 0.5, 0.55, 0.25, 0.3, 0.35]);
    const pred = tf.tidy(() => tf.argMax(periodic(tf.tensor4d(images, [6, 1, 1, 1])), 1));
    const labels = new Int32Array(pred.dataSync());
    pred.dispose();
    const r = await evaluate({ logits: periodic, images, labels, shape: [1, 1, 1], attacks: [{ name: 'fgsm', epsilons: [0.2, 0.4] }, { name: 'bim', epsilons: [0.2], params: { steps: 1, stepSize: 0.01 } }] });
    expect(flag(r, 'monotone-in-eps').status).toBe('failed');
    expect(flag(r, 'iterative-vs-single-step').status).toBe('failed');
  });

  it('checks that need a broken attack fire on constructed outcomes', () => {
    const rec = (over: Partial<RunRecord>): RunRecord => ({ label: 'x', attack: 'x', kind: 'white-box', iterative: true, auxiliary: false, params: {}, epsilon: 0.1, robust: Uint8Array.from([1, 1, 1, 1]), invalidPoints: 0, maxPerturbation: 0.1, ...over });
    const inp: CheckInputs = {
      numClasses: 10,
      clean: Uint8Array.from([1, 1, 1, 1]),
      runs: [
        rec({ label: 'bim(steps=1)', attack: 'bim', params: { steps: 1 }, robust: Uint8Array.from([0, 0, 0, 1]) }),
        rec({ label: 'bim(steps=9)', attack: 'bim', params: { steps: 9 }, robust: Uint8Array.from([1, 1, 0, 1]) }),
        rec({ label: 'leaky', attack: 'leaky', epsilon: 0, robust: Uint8Array.from([1, 1, 1, 0]), maxPerturbation: 0.2, invalidPoints: 2 }),
      ],
      noise: new Map(),
      gradients: { points: 4, allZero: 0, withNaN: 1, withInf: 0 },
      identity: [],
      probabilityRows: { rows: 4, probabilityLike: 0 },
      tolerance: 1,
    };
    const checks = runChecks(inp);
    const status = (id: string) => checks.find((c) => c.id === id)!.status;
    expect(status('eps0-identity')).toBe('failed');
    expect(status('more-iterations')).toBe('failed');
    expect(status('inside-ball-and-bounds')).toBe('failed');
    expect(status('input-gradients')).toBe('failed');
    expect(status('collapse-at-large-eps')).toBe('skipped');
  });
});

describe('resumable runs, transfer and edge batches', () => {
  const shape: [number, number, number] = [4, 4, 1];
  const n = 20;
  function setup() {
    const m = linearModel(shape, 3, 5, 1);
    const images = seededUniform(n * 16, 3, 0, 1);
    const pred = tf.tidy(() => tf.argMax(m.logits(tf.tensor4d(images, [n, ...shape])), 1));
    const labels = new Int32Array(pred.dataSync());
    pred.dispose();
    labels[0] = (labels[0]! + 1) % 3; // one clean mistake
    return { m, images, labels };
  }
  const strip = (r: EvaluationResult) => r.attacks.map((a) => a.results.map((e) => [e.epsilon, e.robust.correct, e.attacked]));

  it('an interrupted run resumes from its checkpoint with the same numbers; other settings are refused', async () => {
    const { m, images, labels } = setup();
    const dir = mkdtempSync(join(tmpdir(), 'dcnet-ckpt-'));
    const checkpoint = join(dir, 'run.jsonl');
    const opts = { logits: m.logits, images, labels, shape, attacks: [{ name: 'pgd', epsilons: [0.05, 0.2], params: { steps: 3, relStepSize: 0.5 } }], batch: 8, seed: 4 };
    const full = await evaluate(opts);
    await expect(
      evaluate({ ...opts, checkpoint, onProgress: (p) => { if (!p.label && p.pointsDone >= 16) throw new Error('killed'); } }),
    ).rejects.toThrow('killed');
    appendFileSync(checkpoint, '{"type":"batch","batch":{"sta'); // a torn last line
    let resumed = 0;
    const again = await evaluate({ ...opts, checkpoint, onProgress: (p) => (resumed = p.resumedPoints) });
    expect(resumed).toBe(16);
    expect(strip(again)).toEqual(strip(full));
    expect(again.checks.map((c) => c.status)).toEqual(full.checks.map((c) => c.status));
    await expect(evaluate({ ...opts, seed: 5, checkpoint })).rejects.toThrow(/different evaluation \(differs in: seed\)/);
    rmSync(dir, { recursive: true, force: true });
    m.dispose();
  });

  it('transfer examples come from the source and are judged on the target; a batch with no correct point is fine', async () => {
    const { m, images, labels } = setup();
    const src = linearModel(shape, 3, 99, 1);
    const allWrong = new Int32Array(labels.length);
    const pred = tf.tidy(() => tf.argMax(m.logits(tf.tensor4d(images, [n, ...shape])), 1));
    pred.dataSync().forEach((p, i) => (allWrong[i] = i < 5 ? (p + 1) % 3 : p));
    pred.dispose();
    const before = tf.memory().numTensors;
    const r = await evaluate({
      logits: m.logits,
      source: { logits: src.logits, name: 'src' },
      images,
      labels: allWrong,
      shape,
      attacks: [{ name: 'fgsm', epsilons: [0.1] }, { name: 'fgsm', epsilons: [0.1], transfer: true }],
      batch: 5,
    });
    expect(tf.memory().numTensors).toBe(before);
    const [white, transfer] = r.attacks;
    expect(transfer!.label).toBe('transfer:fgsm from src');
    expect(transfer!.kind).toBe('transfer');
    expect(transfer!.results[0]!.attacked).toBe(15);
    expect(white!.results[0]!.robust.correct).toBeLessThanOrEqual(transfer!.results[0]!.robust.correct);
    expect(r.worstCase[0]!.attacks).toEqual(['fgsm', 'transfer:fgsm from src']);
    // The probes ran on the second batch, the first with clean-correct points.
    expect(r.checks.find((c) => c.id === 'eps0-identity')!.status).toBe('passed');
    expect(r.checks.find((c) => c.id === 'collapse-at-large-eps')!.status).not.toBe('skipped');
    m.dispose();
    src.dispose();
  });
});

describe('labels', () => {
  it('refuses labels outside the model classes before attacking', async () => {
    await expect(
      evaluate({ logits: threshold, images: new Float32Array([0.2, 0.8]), labels: new Int32Array([0, 2]), shape: [1, 1, 1], attacks: [{ name: 'fgsm', epsilons: [0.1] }] }),
    ).rejects.toThrow(/Label 2 of point 1 is not a class of this model \(it has 2 outputs\)/);
  });
});
