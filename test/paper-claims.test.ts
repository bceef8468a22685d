// The report's "what the paper claimed" paragraph: the paper's gains read from its table
// (checked against the table's numbers subtracted by hand), the support words, and the
// paragraph built from comparisons whose outcome is set by hand.
import { describe, expect, it } from 'vitest';
import type { Comparison, Line, Word } from '../reports/comparisons.js';
import { paperClaimsSection, paperGains, supportOf } from '../reports/paper-claims.js';

describe('paper claims', () => {
  it("the paper's gains over its baseline are its table's differences", () => {
    // Liu et al. 2018, white-box table: FGSM, standard training 18.82 | 43.64 50.47 52.60;
    // BIM, FGSM-trained 7.96 | 35.07 17.38 19.86.
    const close = (xs: number[], ys: number[]) => xs.forEach((x, i) => expect(x).toBeCloseTo(ys[i]!, 9));
    close(paperGains({ training: 'standard', attack: 'fgsm' }), [24.82, 31.65, 33.78]);
    close(paperGains({ training: 'fgsm-at', attack: 'bim' }), [27.11, 9.42, 11.9]);
  });

  it('support: every operator gains, some, none, losses only', () => {
    expect(supportOf(['more robust', 'more robust'])).toBe('supports');
    expect(supportOf(['more robust', 'less robust', 'no clear difference'])).toBe('partly supports');
    expect(supportOf(['no clear difference', 'not a family effect'])).toBe('does not support');
    expect(supportOf(['no clear difference', 'less robust'])).toBe('contradicts');
    expect(supportOf([])).toBe('cannot test');
  });

  const line = (key: Line['key'], mode: Line['mode'] = 'white-box'): Line => ({ mode, key, title: String(key), epsilons: [0.1] });
  const comparison = (training: string, l: Line, a: string, difference: number, word: Word, kind: Comparison['kind'] = 'operator-vs-baseline'): Comparison => ({
    training,
    line: l,
    epsilon: 0.1,
    kind,
    a,
    b: kind === 'operator-vs-baseline' ? 'standard' : 'unbounded',
    seeds: 1,
    points: 100,
    result: { difference, ci95: [difference - 0.05, difference + 0.05], p: 0.01, method: 'mcnemar' },
    holmP: 0.02,
    word,
  });
  const fgsm = line({ name: 'fgsm' });
  const worst = line('worst');
  const bounded = ['sphere-cosine', 'ball-cosine', 'tanh-cosine'];

  it('says which claim holds as the paper measured it and under the strongest attacks', () => {
    const cmp = [
      // FGSM, standard: all three gain; the worst case: one gains.
      ...bounded.map((op) => comparison('standard', fgsm, op, 0.2, 'more robust')),
      comparison('standard', worst, 'sphere-cosine', 0.1, 'more robust'),
      comparison('standard', worst, 'ball-cosine', 0, 'no clear difference'),
      comparison('standard', worst, 'tanh-cosine', -0.1, 'less robust'),
      // A transfer FGSM row must not be read as the white-box one.
      comparison('standard', line({ name: 'fgsm' }, 'transfer'), 'sphere-cosine', -0.5, 'less robust'),
      comparison('standard', worst, 'bounded', -0.031, 'less robust', 'bounded-vs-unbounded'),
    ];
    const text = paperClaimsSection(cmp, 0.1, '0.1').join('\n');
    expect(text).toContain('SphereConv +24.8, BallConv +31.6, TanhConv +33.8 percentage points');
    expect(text).toContain('FGSM, standard training: 3 of 3 more robust than the baseline (SphereConv +20.0 [+15.0, +25.0]');
    expect(text).toContain('this supports the claim as the paper measured it');
    expect(text).toContain('1 of 3 more robust than the baseline, 1 less robust (SphereConv +10.0 [+5.0, +15.0], BallConv +0.0 [−5.0, +5.0], TanhConv −10.0 [−15.0, −5.0])');
    // No BIM comparison for FGSM-trained models in this input.
    expect(text).toContain('BIM, FGSM adversarial training: not measured in this run.');
    expect(text).toContain('bounded − unbounded under the white-box worst case: standard training −3.1 [−8.1, +1.9] percentage points (less robust)');
    expect(text).toContain('**In short: this run supports its FGSM claim, and the gain holds against the strongest attacks; it cannot test its BIM claim.**');
  });

  it('says when the strongest attacks leave every compared model near 0%', () => {
    const cmp = [
      comparison('standard', fgsm, 'tanh-cosine', -0.04, 'less robust'),
      comparison('standard', worst, 'tanh-cosine', -0.002, 'no clear difference'),
    ];
    const at = (levels: Record<string, number>) => (op: string) => levels[op];
    const floored = paperClaimsSection(cmp, 0.1, '0.1', at({ 'tanh-cosine': 0, standard: 0.002 })).join('\n');
    expect(floored).toContain('(TanhConv −0.2 [−5.2, +4.8]), with every one of these models and the baseline under 5% robust accuracy there: at eps 0.1 the strongest attacks leave nothing to compare.');
    // One model above the floor, or a level unknown: no such remark.
    expect(paperClaimsSection(cmp, 0.1, '0.1', at({ 'tanh-cosine': 0, standard: 0.2 })).join('\n')).not.toContain('leave nothing to compare');
    expect(paperClaimsSection(cmp, 0.1, '0.1').join('\n')).toContain('(TanhConv −0.2 [−5.2, +4.8]). BIM');
  });

  it('says so when nothing is evaluated yet', () => {
    expect(paperClaimsSection([], 0.1, '0.1')[2]).toBe('No comparison yet: no model of this run has been evaluated.');
  });

  it('a gain that vanishes under the strongest attacks is said so', () => {
    const cmp = [
      comparison('standard', fgsm, 'ball-cosine', 0.16, 'more robust'),
      comparison('standard', worst, 'ball-cosine', -0.02, 'no clear difference'),
      comparison('fgsm-at', line({ name: 'bim', params: { steps: 10 } }), 'tanh-cosine', -0.2, 'less robust'),
    ];
    const text = paperClaimsSection(cmp, 0.1, '0.1').join('\n');
    expect(text).toContain('FGSM, standard training: 1 of 1 more robust');
    expect(text).toContain('**In short: this run supports its FGSM claim, but not against the strongest attacks; it contradicts its BIM claim.**');
  });
});
