// The report layer: the paper's table layout, family pooling, CSV rows, PNG encoding.
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BUILTIN_PROFILES } from '../src/bench/profile.js';
import { paperLayoutTable, renderMarkdown } from '../reports/markdown.js';
import { renderCsv } from '../reports/csv.js';
import { encodePng } from '../reports/png.js';
import { familyAccuracy } from '../reports/tables.js';
import { renderAccuracyVsEps } from '../reports/svg.js';
import { fakeResults } from './helpers/fake-results.js';

const profile = structuredClone(BUILTIN_PROFILES.quick!);
const N = 100;
// Bounded models keep 40 points under attack, unbounded 10, the baseline 5; clean 90.
const models = fakeResults(profile, N, (op, _t, mode, attack) => {
  if (attack === 'none') return 90;
  if (op === 'standard') return 5;
  return /^(sphere|ball|tanh)-/.test(op) ? 40 : mode === 'score-based' ? 12 : 10;
});
const input = { runName: 'quick', profile, models, backend: 'wasm', toolkitVersion: 't', cellSeconds: 60, generatedAt: 'now', missing: [] };

describe('paper-layout tables', () => {
  it('has the paper rows (none, FGSM, BIM, ... per training) and one column per operator in profile order', () => {
    const t = paperLayoutTable(input, 'white-box', ['fgsm', 'bim'], 0.1).split('\n');
    expect(t[0]).toBe('| attack | baseline | SphereConv | BallConv | TanhConv | LinearConv | SegConv | LogConv | MixConv |');
    expect(t.slice(2).map((r) => r.split(' | ')[0]!.slice(2))).toEqual([
      'none', 'FGSM', 'BIM', 'none (FGSM adv. trained)', 'FGSM (FGSM adv. trained)', 'BIM (FGSM adv. trained)',
    ]);
    expect(t[2]).toContain('| 90.0 (82.6–94.5) |');
    expect(t[3]!.split(' | ')[1]).toBe('5.0 (2.2–11.2)');
    expect(t[3]!.split(' | ')[4]).toBe('40.0 (30.9–49.8)');
  });

  it('pools each family and says which family is more robust', () => {
    const bounded = familyAccuracy(models, 'bounded', 'standard', 'white-box', 'bim', 0.1)!;
    expect(bounded.correct).toBe(120);
    expect(bounded.n).toBe(300);
    const md = renderMarkdown(input);
    expect(md).toMatch(/BIM \(white-box\), standard training: bounded operators keep 40\.0%, unbounded 10\.0% \(\+30\.0 points, intervals do not overlap\); the baseline keeps 5\.0%\./);
    expect(md).toContain('Paper, white-box, CIFAR-10');
    expect(md).toContain('| 85.35 | 88.58 | 91.13 | 91.45 |');
    expect(md).toContain('## Settings');
  });
});

describe('points evaluated', () => {
  it('states the points actually attacked, not the profile request, when the split holds fewer', () => {
    const asked = { ...input, profile: { ...profile, evaluation: { ...profile.evaluation, n: 1000 } } };
    const md = renderMarkdown(asked);
    expect(md).toContain(`${models.length} models, ${N} (1000 requested) test points`);
    expect(md).toContain(`test points attacked: the first ${N} (1000 requested) of the test split`);
    expect(md).not.toMatch(/\b1000 test points/);
    // When the request was met, the number alone.
    const met = { ...input, profile: { ...profile, evaluation: { ...profile.evaluation, n: N } } };
    expect(renderMarkdown(met)).toContain(`${models.length} models, ${N} test points`);
  });
});

describe('results.csv', () => {
  it('has one row per model x attack x epsilon plus a clean row per model', () => {
    const lines = renderCsv(models).trim().split('\n');
    const perModel = 1 + (profile.evaluation.whiteBox.length + profile.evaluation.transfer.attacks.length + 1) * profile.evaluation.epsilons.length;
    expect(lines.length).toBe(1 + models.length * perModel);
    expect(lines[0]).toMatch(/^model_id,dataset,architecture,operator,family,training/);
    expect(lines[1]).toContain('fashion-mnist-embedded/small-cnn/standard/standard/s0');
  });
});

describe('plots and images', () => {
  it('draws one line per model', () => {
    const svg = renderAccuracyVsEps(models, 'white-box', 'bim', profile.evaluation.epsilons, 'BIM');
    expect(svg.match(/<polyline /g)!.length).toBe(models.length);
  });
  it('encodes a valid PNG', () => {
    const rgb = new Uint8Array(2 * 3 * 3).map((_, i) => i * 10);
    const png = encodePng(2, 3, rgb);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.readUInt32BE(16)).toBe(2);
    expect(png.readUInt32BE(20)).toBe(3);
    const idatLen = png.readUInt32BE(33);
    expect(png.toString('ascii', 37, 41)).toBe('IDAT');
    const raw = inflateSync(png.subarray(41, 41 + idatLen));
    expect([...raw.subarray(0, 7)]).toEqual([0, 0, 10, 20, 30, 40, 50]);
  });
});
