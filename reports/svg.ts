// accuracy-vs-eps plots as standalone SVG: one line per model, readable without the table.
import type { Accuracy, AttackMode, ModelResult } from './model-result.js';
import { operatorTitle } from './model-result.js';
import { accuracyOf } from './tables.js';

const PALETTE = ['#1b1b1b', '#1f77b4', '#2ca02c', '#17becf', '#d62728', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Robust accuracy against eps (eps 0 = clean accuracy) for one attack, or from `lookup`
 * (e.g. the curve implied by minimal epsilons).
 */
export function renderAccuracyVsEps(
  models: ModelResult[],
  mode: AttackMode | 'all',
  attack: string,
  epsilons: number[],
  heading: string,
  lookup: (m: ModelResult, e: number) => Accuracy | undefined = (m, e) => accuracyOf(m, mode, attack, e),
): string {
  const W = 760, H = 460, left = 60, right = 230, top = 40, bottom = 50;
  const pw = W - left - right, ph = H - top - bottom;
  const xs = [0, ...epsilons];
  const maxX = Math.max(...xs);
  const x = (e: number) => left + (e / maxX) * pw;
  const y = (a: number) => top + (1 - a) * ph;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">${esc(heading)}</text>`,
  ];
  for (let t = 0; t <= 10; t += 2) {
    const yy = y(t / 10);
    parts.push(`<line x1="${left}" y1="${yy}" x2="${left + pw}" y2="${yy}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 8}" y="${yy + 4}" text-anchor="end">${t * 10}%</text>`);
  }
  for (const e of xs) {
    parts.push(`<line x1="${x(e)}" y1="${top}" x2="${x(e)}" y2="${top + ph}" stroke="#eee"/>`);
    parts.push(`<text x="${x(e)}" y="${top + ph + 18}" text-anchor="middle">${+e.toFixed(4)}</text>`);
  }
  parts.push(`<text x="${left + pw / 2}" y="${H - 10}" text-anchor="middle">epsilon (Linf, [0,1] pixels)</text>`);
  parts.push(`<text transform="translate(16 ${top + ph / 2}) rotate(-90)" text-anchor="middle">robust accuracy</text>`);
  parts.push(`<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  models.forEach((m, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const dash = m.model.training === 'standard' ? '' : ' stroke-dasharray="6 3"';
    const pts = xs
      .map((e) => [e, e === 0 ? m.evaluation.clean : lookup(m, e)] as const)
      .filter(([, a]) => a && a.n > 0)
      .map(([e, a]) => `${x(e).toFixed(1)},${y(a!.accuracy).toFixed(1)}`);
    if (pts.length === 0) return;
    // The model's random-noise baseline (worst of its draws), thin and dotted in the same colour.
    const noise = xs
      .map((e) => [e, e === 0 ? m.evaluation.clean : accuracyOf(m, 'noise', 'noise', e)] as const)
      .filter(([, a]) => a && a.n > 0)
      .map(([e, a]) => `${x(e).toFixed(1)},${y(a!.accuracy).toFixed(1)}`);
    if (noise.length > 1) parts.push(`<polyline class="noise" points="${noise.join(' ')}" fill="none" stroke="${color}" stroke-width="1" stroke-dasharray="1 3"/>`);
    parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
    for (const p of pts) {
      const [px, py] = p.split(',');
      parts.push(`<circle cx="${px}" cy="${py}" r="3" fill="${color}"/>`);
    }
    const ly = top + 10 + i * 18;
    parts.push(`<line x1="${left + pw + 15}" y1="${ly}" x2="${left + pw + 40}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${left + pw + 46}" y="${ly + 4}">${esc(`${operatorTitle(m.model.operator)}${m.model.training === 'standard' ? '' : ` (${m.model.training})`}`)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
