// The spec's sanity checks, as pure functions of per-point outcomes (testable on
// constructed cases). Each returns one SanityCheck with its numbers.
import { countOnes } from './wilson.js';
import { moreEffort } from './verdicts.js';
import type { AttackKind, SanityCheck } from './types.js';

/** One attack at one epsilon, per point (1 = robust: clean-correct and not fooled). */
export interface RunRecord {
  label: string;
  attack: string;
  kind: AttackKind;
  iterative: boolean;
  auxiliary: boolean;
  params: Record<string, unknown>;
  epsilon: number;
  robust: Uint8Array;
  invalidPoints: number;
  maxPerturbation: number;
}

export interface CheckInputs {
  numClasses: number;
  clean: Uint8Array;
  runs: RunRecord[];
  /** Per epsilon: 1 where the point is still correct under random sign noise. */
  noise: Map<number, Uint8Array>;
  gradients: { points: number; allZero: number; withNaN: number; withInf: number };
  /** Attacks run at eps 0 on a probe subset: largest change and accuracy change. */
  identity: Array<{ label: string; maxChange: number; fooled: number; points: number }>;
  /** Strongest white-box result at a large epsilon (requested, or a probe the engine ran). */
  collapse?: { label: string; epsilon: number; robust: number; points: number };
  /** Rows of the clean outputs that look like probabilities (>= 0, summing to 1). */
  probabilityRows: { rows: number; probabilityLike: number };
  /** Points a comparison may differ by before it is flagged (noise tolerance). */
  tolerance: number;
}

const pts = (k: number, n: number) => ((100 * k) / Math.max(n, 1)).toFixed(1);
const check = (id: SanityCheck['id'], status: SanityCheck['status'], message: string, numbers: SanityCheck['numbers'] = {}): SanityCheck => ({
  id,
  status,
  message,
  numbers,
});

export function eps0Identity(inp: CheckInputs): SanityCheck {
  const cleanK = countOnes(inp.clean);
  const bad: string[] = [];
  const numbers: Record<string, number> = {};
  for (const r of inp.runs.filter((r) => r.epsilon === 0)) {
    const k = countOnes(r.robust);
    numbers[`${r.label}: robust at eps 0`] = k;
    if (k !== cleanK || r.maxPerturbation !== 0) bad.push(`${r.label} at eps 0 leaves ${k} test points robust (clean-correct: ${cleanK}) and moves inputs by up to ${r.maxPerturbation}`);
  }
  for (const p of inp.identity) {
    numbers[`${p.label}: max change at eps 0`] = p.maxChange;
    if (p.maxChange !== 0 || p.fooled !== 0) bad.push(`${p.label} at eps 0 moves inputs by up to ${p.maxChange} and fools ${p.fooled} of ${p.points} test points`);
  }
  if (!inp.runs.some((r) => r.epsilon === 0) && inp.identity.length === 0) return check('eps0-identity', 'skipped', 'No attack was run at eps 0.');
  return bad.length
    ? check('eps0-identity', 'failed', `Epsilon 0 does not return the input: ${bad.join('; ')}.`, numbers)
    : check('eps0-identity', 'passed', 'Epsilon 0 returns the input and clean accuracy, for every attack.', numbers);
}

/** Groups runs by attack label, in epsilon order. */
function byLabel(runs: RunRecord[]): Map<string, RunRecord[]> {
  const m = new Map<string, RunRecord[]>();
  for (const r of runs) m.set(r.label, [...(m.get(r.label) ?? []), r]);
  for (const list of m.values()) list.sort((a, b) => a.epsilon - b.epsilon);
  return m;
}

export function monotoneInEps(inp: CheckInputs): SanityCheck {
  const bad: string[] = [];
  const numbers: Record<string, number> = {};
  let compared = 0;
  for (const [label, list] of byLabel(inp.runs)) {
    for (let i = 1; i < list.length; i++) {
      compared++;
      const rise = countOnes(list[i]!.robust) - countOnes(list[i - 1]!.robust);
      if (rise > inp.tolerance) {
        numbers[`${label}: rise from eps ${list[i - 1]!.epsilon} to ${list[i]!.epsilon}`] = rise;
        bad.push(`${label}: robust accuracy rises by ${pts(rise, inp.clean.length)} percentage points from eps ${list[i - 1]!.epsilon} to ${list[i]!.epsilon}`);
      }
    }
  }
  if (compared === 0) return check('monotone-in-eps', 'skipped', 'No attack was run at two or more epsilons.');
  return bad.length
    ? check('monotone-in-eps', 'failed', `Accuracy rises with epsilon (by more than the tolerance of ${inp.tolerance} test points): ${bad.join('; ')}. The attack is not converging, or gradients are unreliable.`, numbers)
    : check('monotone-in-eps', 'passed', 'Robust accuracy never rises with epsilon beyond noise.', numbers);
}

export function collapseAtLargeEps(inp: CheckInputs): SanityCheck {
  const c = inp.collapse;
  if (!c) return check('collapse-at-large-eps', 'skipped', 'No large-epsilon white-box run (the probe was switched off).');
  const chance = Math.ceil(c.points / inp.numClasses);
  const numbers = { epsilon: c.epsilon, robust: c.robust, points: c.points, chanceLevel: chance };
  return c.robust > chance
    ? check('collapse-at-large-eps', 'failed', `${c.label} at eps ${c.epsilon} leaves ${pts(c.robust, c.points)}% of the test points robust, above chance level (${pts(chance, c.points)}%): gradient masking is suspected.`, numbers)
    : check('collapse-at-large-eps', 'passed', `${c.label} at eps ${c.epsilon} drives accuracy to ${pts(c.robust, c.points)}% (chance level at most).`, numbers);
}

export function iterativeVsSingleStep(inp: CheckInputs): SanityCheck {
  const bad: string[] = [];
  const numbers: Record<string, number> = {};
  let compared = 0;
  for (const it of inp.runs.filter((r) => r.kind === 'white-box' && r.iterative && r.epsilon > 0)) {
    const f = inp.runs.find((r) => r.attack === 'fgsm' && r.kind === 'white-box' && r.epsilon === it.epsilon);
    if (!f) continue;
    compared++;
    let worse = 0;
    for (let i = 0; i < it.robust.length; i++) if (it.robust[i] && !f.robust[i]) worse++;
    numbers[`${it.label} eps ${it.epsilon}: test points only FGSM fools`] = worse;
    if (worse > inp.tolerance) bad.push(`at eps ${it.epsilon}, FGSM fools ${worse} test points that ${it.label} does not`);
  }
  if (compared === 0) return check('iterative-vs-single-step', 'skipped', 'No iterative white-box attack to compare with FGSM.');
  return bad.length
    ? check('iterative-vs-single-step', 'failed', `Iterative attacks are weaker than FGSM on some test points: ${bad.join('; ')}. Step size or step count is too small, or gradients are unreliable.`, numbers)
    : check('iterative-vs-single-step', 'passed', 'Every iterative attack fools (per point) at least the test points FGSM fools, within the tolerance.', numbers);
}

export function moreIterations(inp: CheckInputs): SanityCheck {
  const bad: string[] = [];
  const numbers: Record<string, number> = {};
  let compared = 0;
  const requested = inp.runs.filter((r) => !r.auxiliary);
  for (const a of requested) {
    for (const b of requested) {
      if (!moreEffort(a, b)) continue;
      compared++;
      const rise = countOnes(b.robust) - countOnes(a.robust);
      numbers[`${b.label} vs ${a.label} eps ${a.epsilon}`] = rise;
      if (rise > inp.tolerance) bad.push(`${b.label} leaves ${rise} more test points robust than ${a.label} at eps ${a.epsilon}`);
    }
  }
  if (compared === 0) return check('more-iterations', 'skipped', 'No pair of runs that differ only in steps, restarts or queries.');
  return bad.length
    ? check('more-iterations', 'failed', `More iterations or restarts raise accuracy: ${bad.join('; ')}.`, numbers)
    : check('more-iterations', 'passed', 'More iterations or restarts never raise accuracy beyond noise.', numbers);
}

export function whiteBoxVsBlackBox(inp: CheckInputs): SanityCheck {
  const bad: string[] = [];
  const numbers: Record<string, number> = {};
  let compared = 0;
  for (const bb of inp.runs.filter((r) => r.kind !== 'white-box' && r.epsilon > 0)) {
    const wbs = inp.runs.filter((r) => r.kind === 'white-box' && r.epsilon === bb.epsilon);
    if (!wbs.length) continue;
    compared++;
    const best = wbs.reduce((a, b) => (countOnes(b.robust) < countOnes(a.robust) ? b : a));
    const gap = countOnes(best.robust) - countOnes(bb.robust);
    let onlyBlackBox = 0;
    for (let i = 0; i < bb.robust.length; i++) if (!bb.robust[i] && wbs.every((w) => w.robust[i])) onlyBlackBox++;
    numbers[`${bb.label} vs ${best.label} eps ${bb.epsilon}: accuracy gap (test points)`] = gap;
    numbers[`${bb.label} eps ${bb.epsilon}: test points only it fools`] = onlyBlackBox;
    if (gap > inp.tolerance) {
      bad.push(`${bb.label} beats ${best.label} by ${pts(gap, inp.clean.length)} percentage points at eps ${bb.epsilon} (${onlyBlackBox} test points fooled only by ${bb.label})`);
    }
  }
  if (compared === 0) return check('white-box-vs-black-box', 'skipped', 'No transfer or score-based attack next to a white-box one at the same epsilon.');
  return bad.length
    ? check('white-box-vs-black-box', 'failed', `${bad.join('; ')}: gradients of this model are not reliable; trust the black-box numbers.`, numbers)
    : check('white-box-vs-black-box', 'passed', 'White-box attacks are at least as strong as the black-box ones.', numbers);
}

export function randomNoiseBaseline(inp: CheckInputs): SanityCheck {
  const bad: string[] = [];
  const numbers: Record<string, number> = {};
  let compared = 0;
  for (const r of inp.runs.filter((r) => r.kind === 'white-box' && !r.auxiliary && r.epsilon > 0)) {
    const noise = inp.noise.get(r.epsilon);
    if (!noise) continue;
    compared++;
    const margin = countOnes(noise) - countOnes(r.robust);
    numbers[`${r.label} eps ${r.epsilon}: test points below noise`] = margin;
    if (margin <= inp.tolerance && countOnes(noise) > 0) {
      bad.push(`${r.label} at eps ${r.epsilon} leaves ${pts(countOnes(r.robust), r.robust.length)}% robust, random sign noise ${pts(countOnes(noise), noise.length)}%`);
    }
  }
  if (compared === 0) return check('random-noise-baseline', 'skipped', 'No white-box attack at a positive epsilon.');
  return bad.length
    ? check('random-noise-baseline', 'failed', `Attack no stronger than random noise of the same norm: ${bad.join('; ')}. Gradients are not useful (masking or a broken attack).`, numbers)
    : check('random-noise-baseline', 'passed', 'Every white-box attack is stronger than random sign noise of the same epsilon.', numbers);
}

export function inputGradients(inp: CheckInputs): SanityCheck {
  const g = inp.gradients;
  const numbers = { ...g };
  if (g.points === 0) return check('input-gradients', 'skipped', 'Input gradients were not inspected.');
  const bad = g.allZero + g.withNaN + g.withInf;
  return bad > 0
    ? check('input-gradients', 'failed', `Input gradients of the loss are all zero for ${g.allZero}, contain NaN for ${g.withNaN} and Inf for ${g.withInf} of ${g.points} test points: gradient attacks cannot move those points (saturated softmax, masking, or a numerical fault).`, numbers)
    : check('input-gradients', 'passed', `Input gradients are finite and non-zero at all ${g.points} test points.`, numbers);
}

export function insideBallAndBounds(inp: CheckInputs): SanityCheck {
  const bad = inp.runs.filter((r) => r.invalidPoints > 0 || r.maxPerturbation > r.epsilon + 1e-6);
  const numbers = Object.fromEntries(bad.map((r) => [`${r.label} eps ${r.epsilon}: invalid test points`, r.invalidPoints]));
  if (!inp.runs.length) return check('inside-ball-and-bounds', 'skipped', 'No attack was run.');
  return bad.length
    ? check('inside-ball-and-bounds', 'failed', `Adversarial examples outside the eps-ball or [0, 1], or with NaN: ${bad.map((r) => `${r.label} at eps ${r.epsilon} (${r.invalidPoints} test points, max |x'-x| ${r.maxPerturbation})`).join('; ')}.`, numbers)
    : check('inside-ball-and-bounds', 'passed', 'Every adversarial example is inside its eps-ball and [0, 1], with no NaN.', numbers);
}

export function logitsNotProbabilities(inp: CheckInputs): SanityCheck {
  const { rows, probabilityLike } = inp.probabilityRows;
  const numbers = { rows, probabilityLike };
  return rows > 0 && probabilityLike === rows
    ? check('logits-not-probabilities', 'failed', `The model's outputs look like probabilities (all ${rows} rows are >= 0 and sum to 1): attacks need logits; remove the final softmax.`, numbers)
    : check('logits-not-probabilities', 'passed', 'The model returns logits, not probabilities.', numbers);
}

/** Every check, in the spec's order. */
export function runChecks(inp: CheckInputs): SanityCheck[] {
  return [
    eps0Identity,
    monotoneInEps,
    collapseAtLargeEps,
    iterativeVsSingleStep,
    moreIterations,
    whiteBoxVsBlackBox,
    randomNoiseBaseline,
    inputGradients,
    insideBallAndBounds,
    logitsNotProbabilities,
  ].map((f) => f(inp));
}
