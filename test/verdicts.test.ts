// Per-row verdicts on constructed outcomes: more effort that fools a few more test points is
// non-convergence, a significant gap is masking.
import { describe, expect, it } from 'vitest';
import { verdicts, type CheckInputs, type RunRecord } from '../src/eval/index.js';

const N = 300;
const firstK = (k: number) => Uint8Array.from({ length: N }, (_, i) => (i < k ? 1 : 0));
const run = (label: string, params: Record<string, unknown>, robust: number): RunRecord => ({
  label, attack: 'pgd', kind: 'white-box', iterative: true, auxiliary: false, params: { relStepSize: 0.25, ...params }, epsilon: 0.1, robust: firstK(robust), invalidPoints: 0, maxPerturbation: 0.1,
});
const inputs = (effortRobust: number): CheckInputs => ({
  numClasses: 10,
  clean: firstK(260),
  runs: [run('pgd', { steps: 10, restarts: 1 }, 35), run('pgd-effort', { steps: 15, restarts: 2 }, effortRobust)],
  noise: new Map([[0.1, firstK(200)]]),
  gradients: { points: N, allZero: 0, withNaN: 0, withInf: 0 },
  identity: [],
  probabilityRows: { rows: N, probabilityLike: 0 },
  tolerance: 3,
});

describe('verdicts', () => {
  it('5 more test points fooled with more effort (McNemar p = 2/32) is not masking', () => {
    const v = verdicts(inputs(30), []);
    expect(v.rows[0]!.verdict).toBe('measures-robustness');
    expect(v.label).toBe('robustness-measured');
    expect(v.measuring).toEqual(['pgd at eps 0.1', 'pgd-effort at eps 0.1']);
  });
  it('15 more (p = 2/2^15) marks the weaker row masked and the model gradient-masking', () => {
    const v = verdicts(inputs(20), []);
    expect(v.rows[0]!.verdict).toBe('masked');
    expect(v.rows[0]!.reason).toMatch(/more effort \(pgd-effort\) leaves 5\.0 percentage points fewer robust \(paired exact McNemar p = 0\.000061\)/);
    expect(v.label).toBe('gradient-masking');
  });
});
