// The black-box section's remark on a transfer source that shares the targets' seed: it is
// written only when the other family's source has the tables' seed, and quotes each operator's
// robust accuracy at that seed against its other seeds (hand-set values below).
import { describe, expect, it } from 'vitest';
import type { ModelResult } from '../reports/model-result.js';
import { sameSeedSourceRemark } from '../reports/source-seed.js';

const LINE = { key: { name: 'bim', sourceRole: 'other-family' as const }, title: 'BIM from the other family' };

/** A model whose only result is transfer BIM from the other family at eps 0.1 with `robust` accuracy. */
function model(operator: string, seed: number, robust: number, training = 'standard'): ModelResult {
  return {
    model: { id: `d/a/${operator}/${training}/s${seed}`, operator, training, seed },
    results: [{ attack: 'bim', mode: 'transfer', sourceRole: 'other-family', params: {}, epsilon: 0.1, robust: { accuracy: robust } }],
  } as unknown as ModelResult;
}

const profile = (sourceSeed?: number) => ({
  seed: 0,
  evaluation: { tableEpsilon: 0.1, transfer: { otherFamily: { bounded: 'tanh-cosine', unbounded: 'linear-cosine', ...(sourceSeed === undefined ? {} : { seed: sourceSeed }) } } },
});

describe('sameSeedSourceRemark', () => {
  const models = [model('standard', 0, 0.061), model('standard', 2, 0.439), model('standard', 3, 0.422), model('tanh-cosine', 0, 0.014), model('standard', 2, 0.9, 'fgsm-at')];

  it('quotes the source seed against the others, per operator with several seeds of the source training', () => {
    const text = sameSeedSourceRemark(models, profile(), LINE).join('\n');
    expect(text).toContain("**The other family's source is not independent of these targets.** It is the s0 model of LinearConv (for bounded targets) or TanhConv (for the others), standard training");
    expect(text).toContain('BIM from the other family at eps 0.1 leaves baseline 6.1% at s0 against 43.9% at s2, 42.2% at s3.');
    // TanhConv has only s0: no evidence line for it; the FGSM-trained model is not a standard one.
    expect(text).not.toMatch(/TanhConv 1\.4%|90\.0%/);
  });

  it('says nothing when the source has another seed or there is no second source', () => {
    expect(sameSeedSourceRemark(models, profile(1), LINE)).toEqual([]);
    expect(sameSeedSourceRemark(models, { seed: 0, evaluation: { tableEpsilon: 0.1, transfer: {} } }, LINE)).toEqual([]);
  });
});
