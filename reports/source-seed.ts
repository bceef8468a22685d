// Whether the other family's transfer source is independent of the targets it attacks.
// Models of one seed start from the same initial weights wherever the layer shapes match (a
// decoupled convolution's kernel has the standard one's shape: models/architectures.ts) and see
// the training batches in the same order, so a source of the targets' own seed is close to the
// target itself: its transfer is nearly white-box. The report says so, with the seeds that differ
// as the measure of how much it matters.
import { type ModelResult, operatorTitle } from './model-result.js';
import { accuracyOf, type LineKey } from './tables.js';

export interface SourceSeedProfile {
  seed: number;
  evaluation: {
    tableEpsilon: number;
    transfer: { otherFamily?: { bounded: string; unbounded: string; training?: string; seed?: number } };
  };
}

const pct = (v: number) => (100 * v).toFixed(1);

/**
 * A paragraph for the black-box section when the other family's source has the seed of the
 * tables' models, or nothing. `line` is the other-family transfer line to quote (the strongest attack).
 */
export function sameSeedSourceRemark(models: ModelResult[], p: SourceSeedProfile, line: { key: LineKey; title: string } | undefined): string[] {
  const of = p.evaluation.transfer.otherFamily;
  const seed = of?.seed ?? p.seed;
  if (!of || !line || seed !== p.seed) return [];
  const training = of.training ?? 'standard';
  const e = p.evaluation.tableEpsilon;
  const evidence = [...new Set(models.map((m) => m.model.operator))].flatMap((op) => {
    const bySeed = models
      .filter((m) => m.model.operator === op && m.model.training === training)
      .flatMap((m) => {
        const robust = accuracyOf(m, 'transfer', line.key, e)?.accuracy;
        return robust === undefined ? [] : [{ seed: m.model.seed, robust }];
      })
      .sort((a, b) => a.seed - b.seed);
    const same = bySeed.find((x) => x.seed === seed);
    const others = bySeed.filter((x) => x.seed !== seed);
    return same && others.length ? [`${operatorTitle(op)} ${pct(same.robust)}% at s${seed} against ${others.map((x) => `${pct(x.robust)}% at s${x.seed}`).join(', ')}`] : [];
  });
  return [
    `**The other family's source is not independent of these targets.** It is the s${seed} model of ${operatorTitle(of.unbounded)} ` +
      `(for bounded targets) or ${operatorTitle(of.bounded)} (for the others), ${training} training, and the models in these tables are s${seed} too: ` +
      'models of one seed start from the same initial weights wherever the layer shapes match and see the training batches in the same order, ' +
      `so against the ${training}-trained targets that source's transfer is close to white-box. ` +
      (evidence.length
        ? `The seeds that differ from the source's measure how much: ${line.title} at eps ${+e.toFixed(4)} leaves ${evidence.join('; ')}. `
        : '') +
      `Read the "from the other family" rows and the transfer worst case (which includes them) under ${training} training as a same-seed transfer; ` +
      'the first source (another seed of the baseline) is independent of every target.',
    '',
  ];
}
