// Each attack on a linear model against hand-computed (float64 JS) expectations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import { AttackError, perturb, runAttack } from '../attacks/index.js';
import { proposalFractions, squareFraction } from '../attacks/square.js';
import { linearModel, maskedGradient, pointsFor } from './helpers/tiny-models.js';

const SHAPE: [number, number, number] = [4, 4, 2];
const K = 3;
const D = 4 * 4 * 2;
let model: ReturnType<typeof linearModel>;
let x: tf.Tensor4D;
let labels: tf.Tensor1D;
let X: number[];
let Y: number[];
// Created after the setup file has started the test backend.
beforeAll(() => {
  model = linearModel(SHAPE, K, 11, 0.5);
  ({ x, labels } = pointsFor(model, 12));
  X = Array.from(x.dataSync());
  Y = Array.from(labels.dataSync());
  expect(tf.getBackend()).toBe(process.env.DCNET_TEST_BACKEND ?? 'wasm');
});
afterAll(() => {
  model.dispose();
  tf.dispose([x, labels]);
});

/** Logits and CE input gradient of the linear model for one point, in float64. */
function refGrad(xi: number[], y: number): { z: number[]; g: number[] } {
  const z = Array.from({ length: K }, (_, k) => xi.reduce((s, v, d) => s + v * model.w[d * K + k]!, model.b[k]!));
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const p = e.map((v) => v / e.reduce((a, b) => a + b, 0));
  const g = xi.map((_, d) => p.reduce((s, pk, k) => s + model.w[d * K + k]! * (pk - (k === y ? 1 : 0)), 0));
  return { z, g };
}
const argmax = (z: number[]) => z.indexOf(Math.max(...z));
const clip = (v: number, x0: number, eps: number) => Math.min(1, Math.max(0, Math.min(x0 + eps, Math.max(x0 - eps, v))));

/** Reference iterative attack with per-point early stop, as documented in the base. */
function refIterative(eps: number, steps: number, alpha: number, decay?: number, earlyStop = true): number[] {
  const out: number[] = [];
  for (let i = 0; i < Y.length; i++) {
    const x0 = X.slice(i * D, (i + 1) * D);
    let xc = [...x0];
    let mom = new Array(D).fill(0);
    for (let t = 0; t < steps; t++) {
      const { z, g } = refGrad(xc, Y[i]!);
      if (earlyStop && argmax(z) !== Y[i]) break;
      let dir = g;
      if (decay !== undefined) {
        const l1 = g.reduce((s, v) => s + Math.abs(v), 0) / D;
        mom = mom.map((m, d) => decay * m + g[d]! / l1);
        dir = mom;
      }
      xc = xc.map((v, d) => clip(v + alpha * Math.sign(dir[d]!), x0[d]!, eps));
    }
    out.push(...xc);
  }
  return out;
}

function expectClose(actual: tf.Tensor, expected: number[], tol = 1e-5): void {
  const a = actual.dataSync();
  let bad = 0;
  for (let i = 0; i < expected.length; i++) if (Math.abs(a[i]! - expected[i]!) > tol) bad++;
  expect(bad).toBe(0);
}

describe('FGSM', () => {
  it('equals clip(x + eps * sign(grad)) on a linear model', () => {
    const eps = 0.1;
    const expected: number[] = [];
    for (let i = 0; i < Y.length; i++) {
      const x0 = X.slice(i * D, (i + 1) * D);
      const { g } = refGrad(x0, Y[i]!);
      expected.push(...x0.map((v, d) => clip(v + eps * Math.sign(g[d]!), v, eps)));
    }
    const adv = perturb('fgsm', model.logits, x, labels, eps);
    expectClose(adv, expected);
    adv.dispose();
  });
});

describe('BIM and MI-FGSM', () => {
  it('BIM equals the reference loop (absolute step size)', () => {
    const adv = perturb('bim', model.logits, x, labels, 0.05, { steps: 7, stepSize: 0.01 });
    expectClose(adv, refIterative(0.05, 7, 0.01));
    adv.dispose();
  });
  it('BIM without early stop takes every step (as adversarial training wants)', () => {
    const adv = perturb('bim', model.logits, x, labels, 0.2, { steps: 6, stepSize: 0.05, earlyStop: false });
    expectClose(adv, refIterative(0.2, 6, 0.05, undefined, false));
    const stopped = perturb('bim', model.logits, x, labels, 0.2, { steps: 6, stepSize: 0.05 });
    // The two differ: some points are fooled before the last step.
    expect(tf.max(tf.abs(tf.sub(adv, stopped))).dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([adv, stopped]);
  });
  it('BIM step size relative to epsilon', () => {
    const adv = perturb('bim', model.logits, x, labels, 0.08, { steps: 5, relStepSize: 0.25 });
    expectClose(adv, refIterative(0.08, 5, 0.02));
    adv.dispose();
  });
  it('MI-FGSM equals the reference loop with momentum', () => {
    const adv = perturb('mi-fgsm', model.logits, x, labels, 0.06, { steps: 6, decay: 0.9 });
    expectClose(adv, refIterative(0.06, 6, 0.006, 0.9));
    adv.dispose();
  });
});

describe('PGD', () => {
  it('without a random start equals BIM', () => {
    const a = perturb('pgd', model.logits, x, labels, 0.05, { steps: 5, stepSize: 0.01, randomStart: false });
    expectClose(a, refIterative(0.05, 5, 0.01));
    a.dispose();
  });
  it('random start differs by seed; restarts only add successes, per point', () => {
    const p = { steps: 3, relStepSize: 0.25 };
    const s1 = runAttack('pgd', model.logits, x, labels, [0.03], { params: { ...p, restarts: 1 }, seed: 5 });
    const s4 = runAttack('pgd', model.logits, x, labels, [0.03], { params: { ...p, restarts: 4 }, seed: 5 });
    const other = perturb('pgd', model.logits, x, labels, 0.03, p, 6);
    const one = s1.success[0]!.dataSync();
    const four = s4.success[0]!.dataSync();
    for (let i = 0; i < one.length; i++) if (one[i]) expect(four[i]).toBe(1);
    expect(tf.max(tf.abs(tf.sub(other, s1.adversarials[0]!))).dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([...s1.adversarials, ...s1.success, ...s4.adversarials, ...s4.success, other]);
  });
});

describe('Square', () => {
  it('follows the paper schedule of the square fraction', () => {
    expect(squareFraction(0.05, 0, 10000)).toBe(0.05);
    expect(squareFraction(0.05, 11, 10000)).toBe(0.025);
    expect(squareFraction(0.05, 9000, 10000)).toBeCloseTo(0.05 / 512);
    expect(squareFraction(0.05, 100, 1000)).toBe(0.05 / 16); // 100/1000 of the way = query 1000 of 10000
    // The first proposal (the query after the initialisation) uses p_init, as in the reference code.
    const f = proposalFractions(0.8, 50);
    expect(f).toHaveLength(49);
    expect(f[0]).toBe(0.8);
    // Reference: it = int(i / 50 * 10000); halved after 10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000.
    // Proposals 0..3: it = 0, 200, 400, 600 -> p_init, /4, /8, /16.
    expect(f.slice(0, 4)).toEqual([0.8, 0.2, 0.1, 0.05]);
  });
  it('never increases the margin and fools a gradient-masked model that FGSM cannot', () => {
    const masked = maskedGradient(model.logits);
    const eps = 0.3;
    const sq = runAttack('square', masked, x, labels, [eps], { params: { queries: 60 }, seed: 3 });
    const fg = runAttack('fgsm', masked, x, labels, [eps]);
    const sqRate = tf.mean(tf.cast(sq.success[0]!, 'float32')).dataSync()[0]!;
    const fgRate = tf.mean(tf.cast(fg.success[0]!, 'float32')).dataSync()[0]!;
    expect(fgRate).toBe(0);
    expect(sqRate).toBeGreaterThan(0.5);
    tf.dispose([...sq.adversarials, ...sq.success, ...fg.adversarials, ...fg.success]);
  });
});

describe('input validation', () => {
  it('refuses unknown attacks, unknown or bad parameters and 0-255 epsilons', () => {
    expect(() => perturb('cw', model.logits, x, labels, 0.1)).toThrow(/Unknown attack 'cw'.*fgsm/);
    expect(() => perturb('bim', model.logits, x, labels, 0.1, { stpes: 3 })).toThrow(/no parameter 'stpes'.*steps/);
    expect(() => perturb('bim', model.logits, x, labels, 0.1, { steps: 2.5 })).toThrow(/integer/);
    expect(() => perturb('bim', model.logits, x, labels, 8)).toThrow(/8\/255/);
    expect(() => perturb('fgsm', model.logits, x, labels, -0.1)).toThrow(AttackError);
  });
});

describe('R+FGSM (the worked example)', () => {
  it('with alpha 0 equals FGSM; with alpha = eps it is a pure random sign step', () => {
    const f = perturb('fgsm', model.logits, x, labels, 0.1);
    const r0 = perturb('rfgsm', model.logits, x, labels, 0.1, { relAlpha: 0 });
    expect(tf.max(tf.abs(tf.sub(f, r0))).dataSync()[0]).toBe(0);
    const r1 = perturb('rfgsm', model.logits, x, labels, 0.1, { relAlpha: 1 }, 9);
    const moved = tf.abs(tf.sub(r1, x));
    const clipped = tf.logicalOr(tf.lessEqual(r1, 0), tf.greaterEqual(r1, 1));
    // Every coordinate moves by exactly eps unless it hit a bound.
    expect(tf.all(tf.logicalOr(clipped, tf.less(tf.abs(tf.sub(moved, 0.1)), 1e-6))).dataSync()[0]).toBe(1);
    tf.dispose([f, r0, r1, moved, clipped]);
  });
});
