// What each result row measures. Three things used to share one "masking" label:
// - gradient masking: a white-box row weaker than random noise, than a black-box attack or
//   than the same attack with more effort (its gradients mislead it);
// - noise fragility: random sign noise of the same norm already fools most points, so no
//   attack can do much better and "weaker than noise" says nothing about gradients;
// - robustness actually measured: the rows left over are valid upper bounds.
import { discordantPairs, mcnemarExact } from './paired-stats.js';
import { countOnes } from './wilson.js';
import type { CheckInputs, RunRecord } from './checks.js';
import type { AttackVerdict, ModelVerdict, SanityCheck } from './types.js';

/** Random noise "breaks" a model at an epsilon when its worst draw fools at least this share of the clean-correct points. */
export const NOISE_FRAGILE_SHARE = 0.5;

/** A row counts as beaten when the stronger run fools significantly more of the same test points (exact McNemar). */
export const BEATEN_P = 0.05;

/** Checks whose failure means gradients cannot be trusted whatever the rows say. */
const GRADIENT_CHECKS = new Set(['collapse-at-large-eps', 'input-gradients']);

const EFFORT = ['steps', 'restarts', 'queries'] as const;
const effortOf = (r: RunRecord, k: (typeof EFFORT)[number]) => Number(r.params[k] ?? 0);

/** b is the same attack as a with at least as much effort everywhere and more somewhere. */
export function moreEffort(a: RunRecord, b: RunRecord): boolean {
  if (a === b || a.attack !== b.attack || a.kind !== b.kind || a.epsilon !== b.epsilon) return false;
  const rest = (r: RunRecord) => JSON.stringify(Object.entries(r.params).filter(([k]) => !(EFFORT as readonly string[]).includes(k)));
  return rest(a) === rest(b) && EFFORT.every((k) => effortOf(b, k) >= effortOf(a, k)) && EFFORT.some((k) => effortOf(b, k) > effortOf(a, k));
}

const pp = (k: number, n: number) => `${((100 * k) / Math.max(n, 1)).toFixed(1)} percentage points`;
const share = (k: number, n: number) => `${((100 * k) / Math.max(n, 1)).toFixed(1)}% of the test points`;

export function verdicts(inp: CheckInputs, checks: SanityCheck[]): ModelVerdict {
  const n = inp.clean.length;
  const cleanK = countOnes(inp.clean);
  const tol = inp.tolerance;
  const requested = inp.runs.filter((r) => !r.auxiliary && r.epsilon > 0);
  const fragileAt = (eps: number) => {
    const noise = inp.noise.get(eps);
    return noise !== undefined && cleanK > 0 && cleanK - countOnes(noise) >= NOISE_FRAGILE_SHARE * cleanK;
  };
  const rows: AttackVerdict[] = requested.map((r) => {
    const k = countOnes(r.robust);
    const noise = inp.noise.get(r.epsilon);
    const base = { label: r.label, attack: r.attack, kind: r.kind, iterative: r.iterative, epsilon: r.epsilon };
    const noiseK = noise ? countOnes(noise) : undefined;
    const notBeyondNoise = noiseK !== undefined && noiseK - k <= tol;
    if (notBeyondNoise && fragileAt(r.epsilon)) {
      return { ...base, verdict: 'noise-fragile' as const, reason: `random noise alone leaves ${share(noiseK!, n)} robust, this row ${share(k, n)}: the model breaks under noise, the attack adds nothing` };
    }
    if (r.kind !== 'white-box') {
      return notBeyondNoise
        ? { ...base, verdict: 'no-stronger-than-noise' as const, reason: `no stronger than random noise (${share(noiseK!, n)} robust under noise, ${share(k, n)} under this attack)` }
        : { ...base, verdict: 'measures-robustness' as const, reason: 'a valid black-box upper bound' };
    }
    if (notBeyondNoise) {
      return { ...base, verdict: 'masked' as const, reason: `no stronger than random noise of the same norm (noise leaves ${share(noiseK!, n)} robust, the attack ${share(k, n)})` };
    }
    // Beaten: the other run leaves more than the tolerance fewer robust, and the paired
    // difference on the same test points is significant (a few points of non-convergence are not masking).
    const stronger = requested
      .filter((o) => o.epsilon === r.epsilon && (o.kind !== 'white-box' || moreEffort(r, o)))
      .map((o) => ({ o, gap: k - countOnes(o.robust), p: mcnemarExact(...discordantPairs(r.robust, o.robust)) }))
      .filter((x) => x.gap > tol && x.p < BEATEN_P)
      .sort((a, b) => b.gap - a.gap)[0];
    if (stronger) {
      const what = stronger.o.kind === 'white-box' ? `the same attack with more effort (${stronger.o.label})` : `${stronger.o.kind} ${stronger.o.label}`;
      return { ...base, verdict: 'masked' as const, reason: `${what} leaves ${pp(stronger.gap, n)} fewer robust (paired exact McNemar p = ${stronger.p.toPrecision(2)})` };
    }
    return { ...base, verdict: 'measures-robustness' as const, reason: 'stronger than noise, and no black-box attack or extra effort does better' };
  });
  const fragileEps = [...inp.noise.keys()].filter(fragileAt).sort((a, b) => a - b);
  const gradientFails = checks.filter((c) => c.status === 'failed' && GRADIENT_CHECKS.has(c.id));
  const maskedIterative = rows.filter((r) => r.verdict === 'masked' && r.iterative);
  const maskedSingle = rows.filter((r) => r.verdict === 'masked' && !r.iterative);
  const measuring = rows.filter((r) => r.verdict === 'measures-robustness').map((r) => `${r.label} at eps ${r.epsilon}`);
  const rowsText = (list: AttackVerdict[]) => list.map((r) => `${r.label} at eps ${r.epsilon}`).join(', ');
  let label: ModelVerdict['label'];
  let reason: string;
  if (maskedIterative.length || gradientFails.length) {
    label = 'gradient-masking';
    reason = [
      ...gradientFails.map((c) => c.message),
      ...(maskedIterative.length ? [`iterative white-box rows misled by their gradients: ${rowsText(maskedIterative)}`] : []),
    ].join(' ');
  } else if (fragileEps.length) {
    label = 'noise-fragile';
    reason = `random sign noise of the same norm fools at least ${100 * NOISE_FRAGILE_SHARE}% of the clean-correct test points at eps ${fragileEps.join(', ')}: a low accuracy there is fragility to any change, not a sign of masking`;
  } else {
    label = 'robustness-measured';
    reason = 'no sign of gradient masking or noise fragility';
  }
  if (maskedSingle.length) reason += `; single-step rows weaker than noise or black-box attacks are unreliable: ${rowsText(maskedSingle)}`;
  return { label, reason, noiseFragileEpsilons: fragileEps, measuring, rows };
}

