// The shared pieces of the AutoAttack-grade attacks against hand-computed or float64 values:
// losses, the exact Linf projection, APGD's checkpoint schedule, compaction on vs off, and a
// model whose cross-entropy gradient vanishes (logits scaled by a huge constant).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import {
  apgdCheckpoints,
  crossEntropy,
  cwMargin,
  dlr,
  dlrTargeted,
  minimalLinfStep,
  misclassified,
  perturb,
} from '../attacks/index.js';
import { contractModel } from '../attacks/contract-test.js';
import { proposalFractions, squareSide } from '../attacks/square.js';
import { seededUniform } from './helpers/reference.js';
import { linearModel, pointsFor } from './helpers/tiny-models.js';

const values = (t: tf.Tensor) => {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
};

describe('losses', () => {
  it('CE, CW, DLR and targeted DLR equal the hand-computed values', () => {
    const z = tf.tensor2d([[1, 3, 2, 0.5], [4, -1, 0, 2]]);
    const y = tf.tensor1d([0, 0], 'int32');
    const lse = (r: number[]) => Math.log(r.reduce((s, v) => s + Math.exp(v), 0));
    const ce = values(crossEntropy(z, y));
    expect(ce[0]).toBeCloseTo(lse([1, 3, 2, 0.5]) - 1, 5);
    expect(ce[1]).toBeCloseTo(lse([4, -1, 0, 2]) - 4, 5);
    expect(values(cwMargin(z, y))).toEqual([2, -2]);
    // Sorted: (3, 2, 1, 0.5) and (4, 2, 0, -1).
    const d = values(dlr(z, y));
    expect(d[0]).toBeCloseTo((3 - 1) / (3 - 1), 6);
    expect(d[1]).toBeCloseTo((2 - 4) / (4 - 0), 6);
    const t = tf.tensor1d([2, 3], 'int32');
    const dt = values(dlrTargeted(t)(z, y));
    expect(dt[0]).toBeCloseTo((2 - 1) / (3 - (1 + 0.5) / 2), 6);
    expect(dt[1]).toBeCloseTo((2 - 4) / (4 - (0 - 1) / 2), 6);
    tf.dispose([z, y, t]);
  });

  it('DLR is invariant to scaling and shifting the logits, and has a gradient through the ranking', () => {
    const z = tf.tensor2d([[1, 3, 2, 0.5]]);
    const y = tf.tensor1d([0], 'int32');
    const scaled = tf.add(tf.mul(z, 1000), 7) as tf.Tensor2D;
    expect(values(dlr(scaled, y))[0]).toBeCloseTo(values(dlr(z, y))[0]!, 5);
    // d DLR / dz by hand: DLR = (z1 - z0) / (z1 - z0') with z1 = max other = top, z0' = third = z0 here.
    const g = values(tf.grad((v: tf.Tensor) => tf.sum(dlr(v as tf.Tensor2D, y)))(z));
    // DLR = (z1 - z0) / (z1 - z0) = 1 identically in a neighbourhood: zero gradient.
    g.forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-6));
    const z2 = tf.tensor2d([[2, 3, 1, 0.5]]);
    // DLR = (z1 - z0) / (z1 - z2): d/dz0 = -1/2, d/dz1 = 1/2 - 1/2*(1)/2... by hand below.
    const g2 = values(tf.grad((v: tf.Tensor) => tf.sum(dlr(v as tf.Tensor2D, y)))(z2));
    const [a, b, c] = [2, 3, 1]; // z0 = a (true), z1 = b (top), z2 = c (third)
    const den = b - c;
    expect(g2[0]).toBeCloseTo(-1 / den, 5);
    expect(g2[1]).toBeCloseTo(1 / den - (b - a) / den ** 2, 5);
    expect(g2[2]).toBeCloseTo((b - a) / den ** 2, 5);
    expect(g2[3]).toBeCloseTo(0, 6);
    tf.dispose([z, y, scaled, z2]);
  });
});

/** Smallest r with sum |w_i| min(r, u_i) >= |c|, by float64 bisection (independent of the sort). */
function refRadius(p: number[], w: number[], c: number): number {
  const room = p.map((v, i) => (Math.sign(w[i]!) * Math.sign(c) > 0 ? 1 - v : Math.sign(w[i]!) * Math.sign(c) < 0 ? v : 0));
  const g = (r: number) => room.reduce((s, u, i) => s + Math.abs(w[i]!) * Math.min(r, u), 0);
  let lo = 0;
  let hi = 1;
  if (g(hi) < Math.abs(c)) return Infinity;
  for (let k = 0; k < 100; k++) {
    const mid = (lo + hi) / 2;
    if (g(mid) >= Math.abs(c)) hi = mid;
    else lo = mid;
  }
  return hi;
}

describe('minimal Linf step onto a hyperplane in the box (FAB projection)', () => {
  it('reaches w.d = c with the float64 minimal radius, inside [0, 1]', () => {
    const b = 6;
    const dim = 50;
    const p = seededUniform(b * dim, 3, 0, 1);
    const w = seededUniform(b * dim, 4, -1, 1);
    const c = [0.3, -0.8, 2, -0.05, 0, 40];
    const d = minimalLinfStep(tf.tensor2d(p, [b, dim]), tf.tensor2d(w, [b, dim]), tf.tensor1d(c));
    const dv = values(d);
    for (let i = 0; i < b; i++) {
      const pi = Array.from(p.slice(i * dim, (i + 1) * dim));
      const wi = Array.from(w.slice(i * dim, (i + 1) * dim));
      const di = dv.slice(i * dim, (i + 1) * dim);
      const r = refRadius(pi, wi, c[i]!);
      di.forEach((v, k) => {
        expect(pi[k]! + v).toBeGreaterThanOrEqual(-1e-6);
        expect(pi[k]! + v).toBeLessThanOrEqual(1 + 1e-6);
      });
      const norm = Math.max(...di.map(Math.abs));
      const wd = di.reduce((s, v, k) => s + v * wi[k]!, 0);
      if (Number.isFinite(r)) {
        expect(norm).toBeCloseTo(r, 4);
        expect(wd).toBeCloseTo(c[i]!, 3);
      } else {
        // Beyond the box (c = 40): every coordinate goes to its bound in the helpful direction.
        di.forEach((v, k) => expect(Math.abs(v)).toBeCloseTo(Math.sign(wi[k]!) > 0 ? 1 - pi[k]! : pi[k]!, 5));
      }
    }
  });
});

describe('APGD step-size checkpoints', () => {
  it("are the paper's p_j = p_{j-1} + max(p_{j-1} - p_{j-2} - 0.03, 0.06) for N = 100", () => {
    // 0, 0.22, 0.41, 0.57, 0.70, 0.80, 0.87, 0.93, 0.99: checks after iterations 22, 41, ... (1-based).
    expect([...apgdCheckpoints(100).keys()].map((i) => i + 1)).toEqual([22, 41, 57, 70, 80, 87, 93, 99]);
    expect([...apgdCheckpoints(100).values()]).toEqual([22, 19, 16, 13, 10, 7, 6, 6]);
  });
});

describe("Square's schedule (AutoAttack's SquareAttack.p_selection, resc_schedule=False)", () => {
  it('halves p_init after proposals 10, 50, 200, 500, 1000, 2000 and 4000 of a 5,000-query run', () => {
    // The reference's if-chain: p_init while it <= 10, p_init/2 for 10 < it <= 50, ... (it from 0).
    const reference = (it: number) =>
      it <= 10 ? 0.8 : it <= 50 ? 0.4 : it <= 200 ? 0.2 : it <= 500 ? 0.1 : it <= 1000 ? 0.05 : it <= 2000 ? 0.025 : it <= 4000 ? 0.0125 : it <= 6000 ? 0.00625 : it <= 8000 ? 0.003125 : 0.0015625;
    const f = proposalFractions(0.8, 5000, false);
    expect(f).toHaveLength(4999);
    f.forEach((p, i) => expect(p).toBeCloseTo(reference(i), 12));
    // Proposals per fraction: 0..10, 11..50, 51..200, 201..500, 501..1000, 1001..2000, 2001..4000, 4001..4998.
    const counts = new Map<number, number>();
    for (const p of f) counts.set(p, (counts.get(p) ?? 0) + 1);
    expect([...counts.values()]).toEqual([11, 40, 150, 300, 500, 1000, 2000, 998]);
    // Stretched (the Square paper's code) the same run reaches p_init / 512.
    expect(proposalFractions(0.8, 5000, true).at(-1)).toBeCloseTo(0.8 / 512, 12);
  });
  it('square sides on 28x28 are round(sqrt(p * 784)) for each halving of p_init 0.8', () => {
    // sqrt(627.2) = 25.04, sqrt(313.6) = 17.71, 12.52, 8.85, 6.26, 4.43, 3.13, 2.21, 1.57, 1.11
    const sides = Array.from({ length: 10 }, (_, k) => squareSide(0.8 / 2 ** k, 28, 28));
    expect(sides).toEqual([25, 18, 13, 9, 6, 4, 3, 2, 2, 1]);
    expect(squareSide(1, 28, 28)).toBe(28);
    expect(squareSide(1e-6, 28, 28)).toBe(1);
  });
});

describe('early stop by compaction gives the same results as freezing points in the batch', () => {
  let net: ReturnType<typeof contractModel>;
  let x: tf.Tensor4D;
  let y: tf.Tensor1D;
  beforeAll(() => {
    net = contractModel();
    x = tf.randomUniform([24, ...net.shape], 0, 1, 'float32', 5) as tf.Tensor4D;
    y = tf.tidy(() => tf.cast(tf.argMax(net.logits(x), 1), 'int32') as tf.Tensor1D);
  });
  afterAll(() => {
    tf.dispose([x, y]);
    net.model.dispose();
  });
  const cases: Array<[string, Record<string, unknown>, number]> = [
    ['bim', { steps: 10 }, 0.03],
    ['mi-fgsm', { steps: 10, loss: 'dlr' }, 0.03],
    ['pgd', { steps: 10, restarts: 2, loss: 'cw', relStepSize: 0.25 }, 0.03],
    ['apgd-ce', { steps: 20, restarts: 2 }, 0.03],
    ['apgd-t', { steps: 20, targets: 3 }, 0.02],
    ['fab-t', { steps: 20, targets: 2 }, 0.03],
    ['square', { queries: 150 }, 0.03],
  ];
  for (const [name, params, eps] of cases) {
    it(`${name}: same adversarial examples and robust accuracy`, () => {
      const on = perturb(name, net.logits, x, y, eps, { ...params, compact: true }, 3);
      const off = perturb(name, net.logits, x, y, eps, { ...params, compact: false }, 3);
      const fooledOn = values(tf.tidy(() => misclassified(net.logits(on), y)));
      const fooledOff = values(tf.tidy(() => misclassified(net.logits(off), y)));
      // Some points fooled, some not: otherwise compaction would not be exercised.
      const k = fooledOn.reduce((s, v) => s + v, 0);
      expect(k).toBeGreaterThan(0);
      expect(k).toBeLessThan(fooledOn.length);
      expect(fooledOn).toEqual(fooledOff);
      expect(values(tf.max(tf.abs(tf.sub(on, off))))[0]).toBe(0);
      tf.dispose([on, off]);
    });
  }
  it('square: a point gets the same result whatever its batch (size, other points, order)', () => {
    const ids = Array.from({ length: 24 }, (_, i) => i);
    const whole = perturb('square', net.logits, x, y, 0.03, { queries: 150 }, 3, ids);
    // The same points in a shuffled order, split into batches of 7, 9 and 8.
    const order = [5, 17, 0, 23, 11, 2, 14, 8, 20, 1, 13, 6, 19, 3, 22, 10, 15, 7, 21, 4, 12, 18, 9, 16];
    const parts = [order.slice(0, 7), order.slice(7, 16), order.slice(16)].map((rows) => {
      const idx = tf.tensor1d(rows, 'int32');
      const [xs, ys] = [tf.gather(x, idx) as tf.Tensor4D, tf.gather(y, idx) as tf.Tensor1D];
      const adv = perturb('square', net.logits, xs, ys, 0.03, { queries: 150 }, 3, rows);
      tf.dispose([idx, xs, ys]);
      return adv;
    });
    const joined = tf.concat(parts, 0);
    const expected = tf.gather(whole, tf.tensor1d(order, 'int32'));
    expect(values(tf.max(tf.abs(tf.sub(joined, expected))))[0]).toBe(0);
    // Another seed draws other squares: the streams do depend on the attack's seed.
    const other = perturb('square', net.logits, x, y, 0.03, { queries: 150 }, 4, ids);
    expect(values(tf.max(tf.abs(tf.sub(other, whole))))[0]).toBeGreaterThan(0);
    tf.dispose([whole, joined, expected, other, ...parts]);
  });
  it('compaction leaves no tensors behind', () => {
    perturb('apgd-ce', net.logits, x, y, 0.03, { steps: 10 }, 1).dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      perturb('apgd-ce', net.logits, x, y, 0.03, { steps: 10 }, i).dispose();
      perturb('bim', net.logits, x, y, 0.03, { steps: 10 }, i).dispose();
      perturb('square', net.logits, x, y, 0.03, { queries: 50 }, i).dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('masked cross-entropy gradients (logits scaled by a huge constant)', () => {
  it('defeat CE-based BIM but not its CW and DLR versions, nor APGD-DLR', () => {
    const shape: [number, number, number] = [4, 4, 2];
    const base = linearModel(shape, 5, 21, 0.5);
    const { x, labels } = pointsFor(base, 40, 9);
    // Same decisions, but softmax saturates in float32: the CE gradient is exactly zero.
    const huge = (v: tf.Tensor4D) => tf.tidy(() => tf.mul(base.logits(v), 1e5) as tf.Tensor2D);
    const robust = (attack: string, params: Record<string, unknown>) => {
      const adv = perturb(attack, huge, x, labels, 0.3, params);
      const fooled = values(tf.tidy(() => misclassified(huge(adv), labels)));
      adv.dispose();
      return fooled.filter((f) => !f).length / fooled.length;
    };
    const ce = robust('bim', { steps: 10, loss: 'ce' });
    const cw = robust('bim', { steps: 10, loss: 'cw' });
    const dl = robust('bim', { steps: 10, loss: 'dlr' });
    const apgd = robust('apgd-dlr', { steps: 20 });
    expect(ce).toBe(1);
    // On the unscaled model the same eps breaks these points: it is the loss, not the budget.
    expect(cw).toBeLessThan(0.2);
    expect(dl).toBeLessThan(0.2);
    expect(apgd).toBeLessThan(0.2);
    tf.dispose([x, labels]);
    base.dispose();
  });
});
