// The report layer: the paper's table layout with the noise rows, paired findings, CSV rows,
// plots and PNG encoding.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BUILTIN_PROFILES } from '../src/bench/profile.js';
import { writeReport } from '../src/bench/report.js';
import { appendRecord, pinProfile } from '../src/bench/results-store.js';
import { paperLayoutTable, renderMarkdown } from '../reports/markdown.js';
import { renderCsv } from '../reports/csv.js';
import { encodePng } from '../reports/png.js';
import { renderAccuracyVsEps } from '../reports/svg.js';
import { fakeResults } from './helpers/fake-results.js';

const profile = structuredClone(BUILTIN_PROFILES.quick!);
const N = 100;
// Bounded models keep 40 test points under attack, unbounded 10, the baseline 5; clean 90; noise 80.
const models = fakeResults(profile, N, (op, _t, mode, attack) => {
  if (attack === 'none') return 90;
  if (mode === 'noise') return 80;
  if (op === 'standard') return 5;
  return /^(sphere|ball|tanh)-/.test(op) ? 40 : mode === 'score-based' ? 12 : 10;
});
const input = { runName: 'quick', profile, models, backend: 'wasm', toolkitVersion: 't', cellSeconds: 60, generatedAt: 'now', missing: [] };

describe('paper-layout tables', () => {
  it('has the paper rows (none, FGSM, BIM, ... per training), the noise rows, and one column per operator in profile order', () => {
    const t = paperLayoutTable(input, 'white-box', ['fgsm', 'bim'], 0.1).split('\n');
    expect(t[0]).toBe('| attack | baseline | SphereConv | BallConv | TanhConv | LinearConv | SegConv | LogConv | MixConv |');
    expect(t.slice(2).map((r) => r.split(' | ')[0]!.slice(2))).toEqual([
      'none', 'FGSM', 'BIM', 'random noise, worst of 1 draws', 'random noise, mean of 1 draws',
      'none (FGSM adv. trained)', 'FGSM (FGSM adv. trained)', 'BIM (FGSM adv. trained)',
      'random noise, worst of 1 draws (FGSM adv. trained)', 'random noise, mean of 1 draws (FGSM adv. trained)',
    ]);
    expect(t[2]).toContain('| 90.0 (82.6–94.5) |');
    expect(t[3]!.split(' | ')[1]).toBe('5.0 (2.2–11.2)');
    expect(t[3]!.split(' | ')[4]).toBe('40.0 (30.9–49.8)');
    expect(t[5]!.split(' | ')[1]).toBe('80.0 (71.1–86.7)');
  });

  it('states paired family findings with interval and p-values, never "intervals overlap"', () => {
    const md = renderMarkdown(input);
    // 30 of 100 test points robust only under bounded operators: a bootstrap of a constant-sign difference.
    expect(md).toMatch(/BIM \(white-box\), standard training: bounded − unbounded \+30\.0 percentage points \(95% CI \+2\d\.\d to \+3\d\.\d; bootstrap over test points p < 0\.001, Holm p < 0\.001\): bounded operators \*\*more robust\*\* than unbounded ones\./);
    // Baseline vs bounded: 35 discordant test points, all one way: exact McNemar p = 2 * 0.5^35.
    expect(md).toMatch(/\| \+35\.0 \[\+2\d\.\d, \+4\d\.\d\] p < 0\.001, Holm p < 0\.001: more robust \|/);
    // Two PGD settings are told apart by the settings that differ.
    expect(md).toContain('| PGD(steps=15,restarts=2) (white-box) |');
    expect(md).not.toMatch(/overlap/);
    expect(md).not.toMatch(/\d points/);
    expect(md).toContain('Paper, white-box, CIFAR-10');
    expect(md).toContain('## What the paper claimed, and whether this run supports it');
    expect(md).toContain('| 85.35 | 88.58 | 91.13 | 91.45 |');
    expect(md).toContain('## How this run differs from the paper');
    expect(md).toMatch(/\| batch norm \| after every convolution \| none \|/);
    expect(md).toContain('## Settings');
  });
});

describe('points evaluated', () => {
  it('states the points actually attacked, not the profile request, when the split holds fewer', () => {
    const asked = { ...input, profile: { ...profile, evaluation: { ...profile.evaluation, n: 1000 } } };
    const md = renderMarkdown(asked);
    expect(md).toContain(`${models.length} models, ${N} (1000 requested) test points`);
    expect(md).toContain(`| test points attacked | the first ${N} (1000 requested) of the test split |`);
    expect(md).not.toMatch(/\b1000 test points/);
    // When the request was met, the number alone.
    const met = { ...input, profile: { ...profile, evaluation: { ...profile.evaluation, n: N } } };
    expect(renderMarkdown(met)).toContain(`${models.length} models, ${N} test points`);
  });
});

describe('results.csv', () => {
  it('has one row per model x attack x epsilon, the noise rows, and a clean row per model', () => {
    const lines = renderCsv(models).trim().split('\n');
    const perModel = 1 + (profile.evaluation.whiteBox.length + profile.evaluation.transfer.attacks.length + 2) * profile.evaluation.epsilons.length;
    expect(lines.length).toBe(1 + models.length * perModel);
    expect(lines[0]).toMatch(/^model_id,dataset,architecture,operator,family,training/);
    expect(lines[1]).toContain('fashion-mnist-embedded/small-cnn/standard/standard/s0');
    expect(lines.filter((l) => l.includes(',noise,noise,')).length).toBe(models.length * profile.evaluation.epsilons.length);
  });
});

describe('plots and images', () => {
  it('draws one line per model and its noise baseline', () => {
    const svg = renderAccuracyVsEps(models, 'white-box', 'bim', profile.evaluation.epsilons, 'BIM');
    expect(svg.match(/<polyline points/g)!.length).toBe(models.length);
    expect(svg.match(/<polyline class="noise"/g)!.length).toBe(models.length);
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

describe('module layering', () => {
  it('reports/ never imports the bench (the bench depends on reports, not the reverse)', () => {
    const dir = join(import.meta.dirname, '..', 'reports');
    const offenders = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .filter((f) => /from '[^']*src\/(bench|cli)\//.test(readFileSync(join(dir, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});

describe('dcnet report on an old run folder', () => {
  it('refuses results of another schema with one line saying what to do', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcnet-old-'));
    pinProfile(dir, profile);
    const old = { ...models[0]!, schema: 'dcnet-robustness/model-result@1' };
    appendRecord(dir, { index: 0, count: 1 }, {
      schema: 'dcnet-robustness/cell-result@1', cellId: `evaluate:${old.model.id}`, kind: 'evaluate', modelId: old.model.id, shard: '0/1',
      startedAt: '', finishedAt: '', wallSeconds: 1, backend: 'wasm', toolkitVersion: 't', result: { model: old },
    });
    expect(() => writeReport(dir)).toThrow(/model-result@1, this one reads dcnet-robustness\/model-result@2\): run `dcnet bench` into a new run folder/);
    rmSync(dir, { recursive: true, force: true });
  });
});
