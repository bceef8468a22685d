// Transfer from two sources in one evaluation (`extraSources`, a request's `sourceIndex`): each
// request's examples come from its own source, with its own cache, exactly as an evaluation
// with that source alone gives them; and the study's cells give each target a source of the
// other operator family.
import { describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import { clearTransferCache, evaluate, type TransferCache } from '../src/eval/index.js';
import { BUILTIN_PROFILES, validateProfile } from '../src/bench/profile.js';
import { planCells } from '../src/bench/cells.js';
import { linearModel } from './helpers/tiny-models.js';
import { seededUniform } from './helpers/reference.js';

const shape: [number, number, number] = [4, 4, 1];
const n = 20;

describe('transfer from two sources', () => {
  it('each request uses its source, as an evaluation with that source alone does', async () => {
    const target = linearModel(shape, 3, 1, 1);
    const a = linearModel(shape, 3, 50, 1);
    const b = linearModel(shape, 3, 80, 1);
    const images = seededUniform(n * 16, 5, 0, 1);
    const labels = tf.tidy(() => tf.argMax(target.logits(tf.tensor4d(images, [n, ...shape])), 1).dataSync()) as unknown as Int32Array;
    const attacks = [{ name: 'bim', epsilons: [0.1, 0.3], params: { steps: 3 }, transfer: true }];
    const caches: TransferCache[] = [new Map(), new Map()];
    const before = tf.memory().numTensors;
    const run = () =>
      evaluate({
        logits: target.logits,
        source: { logits: a.logits, name: 'A' },
        extraSources: [{ logits: b.logits, name: 'B', transferCache: caches[1] }],
        transferCache: caches[0],
        images,
        labels: Int32Array.from(labels),
        shape,
        attacks: [...attacks, { ...attacks[0]!, sourceIndex: 1 }],
        batch: 7,
      });
    const both = await run();
    expect(both.attacks.filter((x) => x.kind === 'transfer').map((x) => [x.label, x.source])).toEqual([
      ['transfer:bim(steps=3) from A', 'A'],
      ['transfer:bim(steps=3) from B', 'B'],
    ]);
    expect(caches[0]!.size).toBeGreaterThan(0);
    expect(caches[1]!.size).toBe(caches[0]!.size);
    // B's row equals an evaluation with B as the only source.
    const alone = await evaluate({ logits: target.logits, source: { logits: b.logits, name: 'B' }, images, labels: Int32Array.from(labels), shape, attacks, batch: 7 });
    const row = (r: typeof both, label: string) => r.attacks.find((x) => x.label === label)!.results.map((e) => e.robust.correct);
    expect(row(both, 'transfer:bim(steps=3) from B')).toEqual(row(alone, 'transfer:bim(steps=3) from B'));
    // Sources that differ give examples that differ (otherwise the test could not fail).
    const advOf = (m: typeof a) => tf.tidy(() => Array.from(tf.sign(tf.grad((x: tf.Tensor) => tf.sum(m.logits(x as tf.Tensor4D)))(tf.tensor4d(images.subarray(0, 16), [1, ...shape]))).dataSync()));
    expect(advOf(a)).not.toEqual(advOf(b));
    // From the caches, the same numbers again.
    const again = await run();
    expect(again.attacks.map((x) => x.results.map((e) => e.robust.correct))).toEqual(both.attacks.map((x) => x.results.map((e) => e.robust.correct)));
    caches.forEach(clearTransferCache);
    expect(tf.memory().numTensors).toBe(before);
    await expect(
      evaluate({ logits: target.logits, source: { logits: a.logits, name: 'A' }, images, labels: Int32Array.from(labels), shape, attacks: [{ ...attacks[0]!, sourceIndex: 1 }] }),
    ).rejects.toThrow(/no source model was given \(source 1: pass it in extraSources\)/);
    [target, a, b].forEach((m) => m.dispose());
  });

  it('the study gives bounded targets the unbounded source, every other target the bounded one', () => {
    const study = BUILTIN_PROFILES.study!;
    const other = new Map(planCells(study).flatMap((c) => (c.kind === 'evaluate' ? [[c.model.id, c.otherSource?.id]] : [])));
    const id = (op: string, t = 'standard', s = 0) => `fashion-mnist/small-cnn-bn/${op}/${t}/s${s}`;
    expect(other.get(id('ball-cosine', 'fgsm-at'))).toBe(id('linear-cosine'));
    expect(other.get(id('tanh-cosine'))).toBe(id('linear-cosine'));
    expect(other.get(id('linear-cosine'))).toBe(id('tanh-cosine'));
    expect(other.get(id('mix-cosine', 'fgsm-at'))).toBe(id('tanh-cosine'));
    expect(other.get(id('standard', 'standard', 2))).toBe(id('tanh-cosine'));
    const cells = planCells(study);
    const evaluateTanh = cells.find((c) => c.id === `evaluate:${id('tanh-cosine')}`)!;
    expect(evaluateTanh.kind === 'evaluate' && evaluateTanh.needs).toContain(`train:${id('linear-cosine')}`);
    const p = structuredClone(study);
    p.evaluation.transfer.otherFamily = { bounded: 'linear-cosine', unbounded: 'linear-cosine' };
    expect(() => validateProfile(p)).toThrow(/otherFamily\.bounded: "linear-cosine" is an unbounded operator: give a bounded one/);
  });
});
