// The engine's result in the report's per-model form: per-test-point outcomes survive the
// compact encoding, worst cases are per point, and the noise rows carry their draws.
import { describe, expect, it } from 'vitest';
import { decodeBits, encodeBits, evaluate } from '../src/eval/index.js';
import { toModelResult } from '../reports/model-result.js';
import { linearModel } from './helpers/tiny-models.js';
import { seededUniform } from './helpers/reference.js';

describe('per-point bitsets', () => {
  it('round-trip any length and refuse the wrong length', () => {
    for (const n of [1, 7, 8, 9, 300]) {
      const flags = Uint8Array.from({ length: n }, (_, i) => (i * 7919) % 3 === 0 ? 1 : 0);
      expect(decodeBits(encodeBits(flags), n)).toEqual(flags);
    }
    // Point i is bit i % 8 of byte i / 8: points 0 and 9 set -> bytes 0x01, 0x02.
    expect(encodeBits([1, 0, 0, 0, 0, 0, 0, 0, 0, 1])).toBe(Buffer.from([1, 2]).toString('base64'));
    expect(() => decodeBits(encodeBits([1, 0, 1]), 20)).toThrow(/expected 20 test points/);
  });
});

describe('toModelResult', () => {
  it('keeps every outcome of the engine, per test point', async () => {
    const shape: [number, number, number] = [4, 4, 1];
    const n = 30;
    const target = linearModel(shape, 3, 5, 1);
    const source = linearModel(shape, 3, 9, 1);
    const images = seededUniform(n * 16, 3, 0, 1);
    const labels = new Int32Array(n).map((_, i) => i % 3);
    const r = await evaluate({
      logits: target.logits,
      source: { logits: source.logits, name: 'src' },
      images,
      labels,
      shape,
      attacks: [
        { name: 'fgsm', epsilons: [0.05, 0.2] },
        { name: 'bim', epsilons: [0.05, 0.2], params: { steps: 5 } },
        { name: 'fgsm', epsilons: [0.2], transfer: true },
      ],
      batch: 16,
      keepPerPoint: true,
    });
    const id = 'fashion-mnist-embedded/small-cnn/tanh-cosine/standard/s0';
    const m = JSON.parse(JSON.stringify(toModelResult(r, { model: id, source: 'src' }, undefined, 1)));
    expect(m.model).toMatchObject({ operator: 'tanh-cosine', family: 'bounded', training: 'standard', seed: 0 });
    const bits = (s: string) => Uint8Array.from(s, (c) => (c === '1' ? 1 : 0));
    expect(decodeBits(m.evaluation.cleanPerPoint, n)).toEqual(bits(r.perPoint!.clean));
    for (const row of m.results.filter((x: { mode: string }) => x.mode !== 'noise')) {
      const flags = decodeBits(row.perPoint, n);
      expect(flags).toEqual(bits(r.perPoint!.robust[`${row.label}@${row.epsilon}`]!));
      expect(flags.reduce((a, b) => a + b, 0)).toBe(row.robust.correct);
    }
    // White-box worst case at 0.2: robust only where FGSM and BIM both fail.
    const at = (label: string) => bits(r.perPoint!.robust[`${label}@0.2`]!);
    const wb = m.worstCase.find((w: { mode: string; epsilon: number }) => w.mode === 'white-box' && w.epsilon === 0.2);
    expect(decodeBits(wb.perPoint, n)).toEqual(at('fgsm').map((v, i) => v & at('bim(steps=5)')[i]!));
    // Transfer has one attack: its worst case is that row.
    const tr = m.worstCase.find((w: { mode: string }) => w.mode === 'transfer');
    expect(tr.robust.correct).toBe(r.attacks[2]!.results[0]!.robust.correct);
    // Noise rows: the worst case over 5 draws, their mean, at every requested epsilon.
    const noise = m.results.filter((x: { mode: string }) => x.mode === 'noise');
    expect(noise.map((x: { epsilon: number }) => x.epsilon)).toEqual([0.05, 0.2]);
    for (const row of noise) {
      const z = r.noise.find((x) => x.epsilon === row.epsilon)!;
      expect(row.draws).toHaveLength(5);
      expect(row.robust.correct).toBe(z.accuracy.correct);
      expect(row.mean).toBeCloseTo(z.draws.reduce((a, b) => a + b.accuracy, 0) / 5, 12);
      // Worst over the draws is at most every draw.
      for (const d of row.draws) expect(row.robust.correct).toBeLessThanOrEqual(d.correct);
    }
    expect(m.verdict.rows.length).toBe(5);
    target.dispose();
    source.dispose();
  });
});
