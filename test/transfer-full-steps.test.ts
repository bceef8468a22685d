// Examples made for transfer run every step on every point: early stop is judged on the
// source, and examples frozen just across the source's boundary transfer poorly.
import { describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import type { LogitsFn } from '../attacks/index.js';
import { evaluate } from '../src/eval/index.js';

/** 1-pixel images, 2 classes: class 1 iff x > t (logits linear in x, so every BIM step is -+ stepSize). */
const thresholdAt =
  (t: number): LogitsFn =>
  (x) =>
    tf.tidy(() => {
      const v = tf.reshape(x, [x.shape[0], 1]);
      return tf.concat([tf.mul(tf.sub(t, v), 10), tf.mul(tf.sub(v, t), 10)], 1) as tf.Tensor2D;
    });

describe('transfer examples', () => {
  it('run every step on the source even after the source is fooled', async () => {
    // BIM at eps 0.3, 10 steps of 0.04 on the source (threshold 0.5):
    // 0.55 -> 0.51 -> 0.47 fools the source after 2 steps; early stop would leave it at 0.47,
    // which the target (threshold 0.4) still classifies as 1. Every step: 0.55 - 0.3 = 0.25 -> class 0.
    // 0.9 ends at 0.6 (class 1 on the target); 0.05 ends at 0.35 (class 0): both robust.
    const images = new Float32Array([0.55, 0.9, 0.05]);
    const labels = new Int32Array([1, 1, 0]);
    const r = await evaluate({
      logits: thresholdAt(0.4),
      source: { logits: thresholdAt(0.5), name: 'src' },
      images,
      labels,
      shape: [1, 1, 1],
      attacks: [{ name: 'bim', epsilons: [0.3], params: { steps: 10, stepSize: 0.04 }, transfer: true }],
      checks: false,
      keepPerPoint: true,
    });
    const transfer = r.attacks[0]!;
    expect(transfer.params.earlyStop).toBe(false);
    expect(r.perPoint!.robust[`${transfer.label}@0.3`]).toBe('011');
    // The same attack with early stop on (as white-box on the source) stops at 0.47.
    const white = await evaluate({
      logits: thresholdAt(0.5),
      images: new Float32Array([0.55]),
      labels: new Int32Array([1]),
      shape: [1, 1, 1],
      attacks: [{ name: 'bim', epsilons: [0.3], params: { steps: 10, stepSize: 0.04 } }],
      checks: false,
    });
    expect(white.attacks[0]!.params.earlyStop).toBe(true);
  });

  it('refuses an explicit earlyStop: true for a transfer attack', async () => {
    await expect(
      evaluate({
        logits: thresholdAt(0.4),
        source: { logits: thresholdAt(0.5), name: 'src' },
        images: new Float32Array([0.55]),
        labels: new Int32Array([1]),
        shape: [1, 1, 1],
        attacks: [{ name: 'bim', epsilons: [0.3], params: { earlyStop: true }, transfer: true }],
      }),
    ).rejects.toThrow(/earlyStop must stay off/);
  });
});
