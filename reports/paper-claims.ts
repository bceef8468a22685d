// The one paragraph a reader wants first: what the DCNet paper claimed about robustness, and
// whether this run supports it. Built from the paired comparisons (the same ones as the
// findings and the baseline table), never typed in: every number it quotes is either the
// paper's (reports/paper.ts) or a comparison of this run.
import { type Comparison, differenceWithInterval, signedPoints } from './comparisons.js';
import { operatorTitle } from './model-result.js';
import { PAPER_COLUMNS, PAPER_WHITE_BOX } from './paper.js';

/** A claim the paper's white-box table makes: its bounded operators beat the baseline under one attack. */
interface Claim {
  training: 'standard' | 'fgsm-at';
  attack: 'fgsm' | 'bim';
  /** How the paragraph names it. */
  text: string;
}

const CLAIMS: Claim[] = [
  { training: 'standard', attack: 'fgsm', text: 'resist white-box FGSM better than the baseline CNN under standard training' },
  { training: 'fgsm-at', attack: 'bim', text: 'resist white-box BIM better than the baseline after FGSM adversarial training' },
];

const BOUNDED = PAPER_COLUMNS.slice(1);

/** The paper's gains over the baseline (percentage points), per bounded operator, from its own table. */
export function paperGains(claim: Pick<Claim, 'training' | 'attack'>): number[] {
  const row = PAPER_WHITE_BOX.rows.find((r) => r.training === claim.training && r.attack === claim.attack)!;
  return BOUNDED.map((_, i) => row.values[i + 1]! - row.values[0]);
}

const trainingText = (t: string) => (t === 'standard' ? 'standard training' : t === 'fgsm-at' ? 'FGSM adversarial training' : t);

type Support = 'supports' | 'partly supports' | 'does not support' | 'contradicts' | 'cannot test';

/** From the words of the bounded-vs-baseline comparisons: all gain, some gain, none, or losses only. */
export function supportOf(words: string[]): Support {
  if (!words.length) return 'cannot test';
  const more = words.filter((w) => w === 'more robust').length;
  const less = words.filter((w) => w === 'less robust').length;
  if (more === words.length) return 'supports';
  if (more > 0) return 'partly supports';
  return less > 0 ? 'contradicts' : 'does not support';
}

const isAttack = (c: Comparison, name: string) => c.line.mode === 'white-box' && typeof c.line.key === 'object' && c.line.key.name === name && !c.line.key.sourceRole;
const isWorst = (c: Comparison) => c.line.mode === 'white-box' && c.line.key === 'worst';

/** One operator-vs-baseline comparison per bounded operator of the paper present in the run (first matching line). */
function bounded(cmp: Comparison[], training: string, eps: number, match: (c: Comparison) => boolean): Comparison[] {
  return BOUNDED.flatMap((op) => {
    const c = cmp.find((x) => x.kind === 'operator-vs-baseline' && x.training === training && x.a === op && x.epsilon === eps && match(x));
    return c ? [c] : [];
  });
}

const list = (cs: Comparison[]) => cs.map((c) => `${operatorTitle(c.a)} ${differenceWithInterval(c)}`).join(', ');

const counted = (cs: Comparison[]) => {
  const more = cs.filter((c) => c.word === 'more robust').length;
  const less = cs.filter((c) => c.word === 'less robust').length;
  return `${more} of ${cs.length} more robust than the baseline${less ? `, ${less} less robust` : ''}`;
};

/** Below this worst-case robust accuracy (every model compared), the comparison is at the floor. */
export const FLOOR = 0.05;

/**
 * The section: the claims, the evidence for each (the paper's attack, then the strongest
 * white-box evaluation), a verdict. `worstCase(operator, training)`: that model's white-box
 * worst-case robust accuracy at `eps` (its seed's; undefined when not evaluated), to say when
 * every model is near 0% there.
 */
export function paperClaimsSection(cmp: Comparison[], eps: number, epsText: string, worstCase: (operator: string, training: string) => number | undefined = () => undefined): string[] {
  const title = ['## What the paper claimed, and whether this run supports it', ''];
  if (!cmp.length) return [...title, 'No comparison yet: no model of this run has been evaluated.', ''];
  const claimed = CLAIMS.map(
    (c) => `${c.text} (${BOUNDED.map((op, i) => `${operatorTitle(op)} ${signedPoints(paperGains(c)[i]! / 100)}`).join(', ')} percentage points)`,
  );
  const parts: string[] = [];
  const verdicts: string[] = [];
  for (const claim of CLAIMS) {
    const asPaper = bounded(cmp, claim.training, eps, (c) => isAttack(c, claim.attack));
    const strongest = bounded(cmp, claim.training, eps, isWorst);
    const name = claim.attack.toUpperCase();
    if (!asPaper.length) {
      parts.push(`${name}, ${trainingText(claim.training)}: not measured in this run.`);
      verdicts.push(`cannot test its ${name} claim`);
      continue;
    }
    const weak = supportOf(asPaper.map((c) => c.word));
    const strong = supportOf(strongest.map((c) => c.word));
    const levels = strongest.flatMap((c) => [worstCase(c.a, c.training), worstCase(c.b, c.training)]);
    const floored = strongest.length > 0 && levels.every((v) => v !== undefined && v < FLOOR);
    parts.push(
      `${name}, ${trainingText(claim.training)}: ${counted(asPaper)} (${list(asPaper)}); this ${weak} the claim as the paper measured it.` +
        (strongest.length ? ` Against the white-box worst case per test point (every white-box attack of the run): ${counted(strongest)} (${list(strongest)})` : '') +
        (floored ? `, with every one of these models and the baseline under ${100 * FLOOR}% robust accuracy there: at eps ${epsText} the strongest attacks leave nothing to compare.` : strongest.length ? '.' : ''),
    );
    const holds = strongest.length ? (strong === 'supports' || strong === 'partly supports' ? ', and the gain holds against the strongest attacks' : ', but not against the strongest attacks') : '';
    verdicts.push(`${weak} its ${name} claim${weak === 'supports' || weak === 'partly supports' ? holds : ''}`);
  }
  const family = cmp.filter((c) => c.kind === 'bounded-vs-unbounded' && isWorst(c) && c.epsilon === eps);
  const familyText = family.length
    ? ` The paper did not compare bounded with unbounded operators; here, bounded − unbounded under the white-box worst case: ${family
        .map((c) => `${trainingText(c.training)} ${differenceWithInterval(c)} percentage points (${c.word})`)
        .join('; ')}.`
    : '';
  return [
    ...title,
    `Liu et al. (2018, CIFAR-10, their white-box table) report that the bounded operators ${claimed.join(', and ')}. ` +
      `In this run (other data, network and epsilon: see "How this run differs from the paper"), at eps ${epsText}, paired on the same test points (differences in percentage points, 95% intervals; "more robust" only where the Holm-adjusted test agrees): ` +
      `${parts.join(' ')}${familyText} **In short: this run ${verdicts.join('; it ')}.**`,
    '',
  ];
}
