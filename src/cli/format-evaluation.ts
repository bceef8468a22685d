// Plain-text rendering of an EvaluationResult for the terminal.
import type { Accuracy, EvaluationResult } from '../eval/index.js';

const pct = (a: Accuracy) => `${(100 * a.accuracy).toFixed(1)}% [${(100 * a.ci95[0]).toFixed(1)}, ${(100 * a.ci95[1]).toFixed(1)}]`;
const eps = (e: number) => `${e.toFixed(4)}${e > 0 && Math.abs(e * 255 - Math.round(e * 255)) < 1e-6 ? ` (${Math.round(e * 255)}/255)` : ''}`;

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

export function formatEvaluation(r: EvaluationResult, dataset: string): string {
  const lines = [
    `model ${r.model} on ${dataset}: n = ${r.n}, seed ${r.seed}, batch ${r.batch}, backend ${r.backend}`,
    `clean accuracy: ${pct(r.clean)}  (${r.clean.correct}/${r.n}; Wilson 95% intervals in brackets)`,
    '',
  ];
  const rows = [['attack', 'eps', 'robust (all test points)', 'conditional (clean-correct)', 'img/s']];
  for (const a of r.attacks) {
    for (const e of a.results) {
      rows.push([a.label, eps(e.epsilon), pct(e.robust), pct(e.conditionalRobust), e.imagesPerSecond.toFixed(1)]);
    }
  }
  for (const w of r.worstCase) rows.push([`worst case (${w.attacks.length} attacks)`, eps(w.epsilon), pct(w.robust), pct(w.conditionalRobust), '']);
  lines.push(...table(rows), '');
  for (const a of r.attacks) {
    const p = Object.entries(a.params).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`).join(', ');
    lines.push(`${a.label}: ${a.kind}${a.auxiliary ? ' (reference for the checks)' : ''}${p ? `, ${p}` : ''}`);
  }
  if (r.noise.length) {
    const draws = r.noise[0]!.draws.length;
    lines.push(`random sign noise (${draws} draws; worst case per test point, mean): ${r.noise.map((x) => `eps ${x.epsilon.toFixed(4)} ${pct(x.accuracy)}, mean ${(100 * x.mean).toFixed(1)}%`).join('; ')}`);
  }
  lines.push('', `verdict: ${r.verdict.label}: ${r.verdict.reason}`);
  lines.push(`  rows that measure robustness: ${r.verdict.measuring.length ? r.verdict.measuring.join('; ') : 'none'}`);
  for (const v of r.verdict.rows.filter((x) => x.verdict !== 'measures-robustness')) lines.push(`  ${v.verdict}: ${v.label} at eps ${v.epsilon}: ${v.reason}`);
  lines.push('', `sanity checks: ${r.checks.filter((c) => c.status === 'passed').length} passed, ${r.flags.length} flagged, ${r.checks.filter((c) => c.status === 'skipped').length} skipped`);
  for (const c of r.checks) lines.push(`  ${c.status === 'failed' ? 'FLAG' : c.status === 'passed' ? 'ok  ' : 'skip'} ${c.id}: ${c.message}`);
  return lines.join('\n');
}
