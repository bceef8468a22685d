// The README's generated blocks match what their generators render from the committed
// artifacts (scripts/readme/), and the block mechanism itself.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { committedModels } from './helpers/committed.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM scripts without type declarations
import { findBlocks, renderReadme } from '../scripts/readme/render.mjs';
// @ts-expect-error: plain ESM scripts without type declarations
import { generators, modelsTable, paperClaims, runSummary } from '../scripts/readme/blocks.mjs';

const root = join(import.meta.dirname, '..');

describe('README generated blocks', () => {
  it('README.md is current with the committed artifacts (else: npm run readme)', async () => {
    const text = readFileSync(join(root, 'README.md'), 'utf8');
    expect(await renderReadme(text, generators, root)).toBe(text);
  });

  it('replaces each block body and keeps the text around it', async () => {
    const text = 'a\n<!-- generated:x -->\nold\n<!-- /generated:x -->\nb <!-- generated:y --><!-- /generated:y --> c';
    const out = await renderReadme(text, { x: async () => 'new  \n', y: () => '1' }, root);
    expect(out).toBe('a\n<!-- generated:x -->\nnew\n<!-- /generated:x -->\nb <!-- generated:y -->\n1\n<!-- /generated:y --> c');
    // Rendering is idempotent: a second run changes nothing.
    expect(await renderReadme(out, { x: async () => 'new  \n', y: () => '1' }, root)).toBe(out);
  });

  it('refuses drift between the README and the generators', async () => {
    await expect(renderReadme('<!-- generated:x -->', {}, root)).rejects.toThrow(/"x" is not closed/);
    await expect(renderReadme('<!-- generated:x --><!-- /generated:x -->', {}, root)).rejects.toThrow(/"x" has no generator/);
    await expect(renderReadme('text', { x: () => '' }, root)).rejects.toThrow(/"x" has no block/);
    expect(() => findBlocks('<!-- generated:x --><!-- generated:y --><!-- /generated:y --><!-- /generated:x -->')).toThrow(/nested/);
    expect(() => findBlocks('<!-- generated:x --><!-- /generated:x --><!-- generated:x --><!-- /generated:x -->')).toThrow(/twice/);
  });

  it('the paper estimate block says the committed estimate, its machine and its load', () => {
    const text = readFileSync(join(root, 'docs/paper-estimate.txt'), 'utf8');
    const total = text.match(/^estimate: ([\d.]+) CPU-hours/m)![1];
    const load = text.match(/load average ([\d.]+) before, ([\d.]+) after/)!;
    const block = generators['paper-estimate'](root) as string;
    expect(block).toContain(`**${Number(total).toLocaleString('en-US')} CPU-hours**`);
    expect(block).toContain(`load average ${load[1]}-${load[2]}`);
  });

  describe('published profiles (results/<profile>/)', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'dcnet-readme-'));
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));

    it('say "not yet published" and how to publish, until results/<profile>/ is committed', async () => {
      expect(await modelsTable(tmp, 'quick')).toMatch(/^\*Not yet published:\* .*`npx dcnet bench --profile quick --publish`/);
      expect(await runSummary(tmp, 'quick')).toMatch(/^\*Not yet published:\*/);
      if (!existsSync(join(root, 'results/quick/report.md'))) expect(await generators['quick-results'](root)).toMatch(/^\*Not yet published:\*/);
    });

    it("render a published run's models from their manifests and its cost from its sessions and cells", async () => {
      // The committed tiny run, read back independently of the generator.
      const dir = join(root, 'results/tiny');
      const manifests = committedModels(root).filter((m) => m.profile === 'tiny').map((m) => m.manifest);
      const table = (await modelsTable(root, 'tiny')) as string;
      expect(table.split('\n').filter((l) => l.startsWith('| `'))).toHaveLength(manifests.length);
      for (const m of manifests) {
        expect(table).toContain(`| \`${m.id}\` | ${(100 * m.metrics.testAccuracy).toFixed(2)}% | ${m.epochs} |`);
      }
      const sessions = readFileSync(join(dir, 'sessions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const summary = (await runSummary(root, 'tiny')) as string;
      expect(summary).toContain(`on ${sessions[0].machine.cpu}, ${sessions[0].machine.cores} cores`);
      expect(summary).toContain(`with ${sessions[0].jobs} worker threads`);
      // The report's white-box table, as the report has it.
      const report = readFileSync(join(dir, 'report.md'), 'utf8');
      const section = report.slice(report.indexOf('## White-box robustness'));
      const firstTable = section.slice(section.indexOf('| attack |'), section.indexOf('\n\n', section.indexOf('| attack |')));
      expect(summary.endsWith(firstTable)).toBe(true);
    });

    it("quote the report's answer to the paper, and say when a run is committed without its report yet", async () => {
      const report = readFileSync(join(root, 'results/tiny/report.md'), 'utf8');
      const paragraph = report.split('## What the paper claimed, and whether this run supports it\n\n')[1]!.split('\n')[0]!;
      expect(paragraph).toMatch(/^Liu et al\. .*\*\*In short: this run .*\.\*\*$/);
      expect(await paperClaims(root, 'tiny')).toBe(`From [\`results/tiny/report.md\`](results/tiny/report.md):\n\n> ${paragraph}`);
      // A run in progress: models and cells committed, no report.
      const part = join(tmp, 'part');
      cpSync(join(root, 'results/tiny'), join(part, 'results/tiny'), { recursive: true });
      rmSync(join(part, 'results/tiny/report.md'));
      const cells = readFileSync(join(root, 'results/tiny/results.jsonl'), 'utf8').trim().split('\n').length;
      expect(await paperClaims(part, 'tiny')).toBe(
        `*In progress:* the tiny run is committed in part (3 model(s) in \`results/tiny/zoo/\`, ${cells} finished cell(s) in \`results/tiny/results.jsonl\`), ` +
          'without a report yet; `npx dcnet bench --profile tiny --publish` goes on from there.',
      );
      expect(await runSummary(part, 'tiny')).toMatch(/^\*No report yet:\* the tiny run is not finished/);
      expect(await modelsTable(part, 'tiny')).toMatch(/^The tiny profile's models trained so far, committed in/);
      // An incomplete run's report says so where its answer is quoted.
      const incomplete = report.replace(/^(# .*\n\n.*\n)/, '$1\n**Incomplete run**: no result yet for 2 cell(s) (1 training, 1 evaluation): train:a, evaluate:a.\n');
      writeFileSync(join(part, 'results/tiny/report.md'), incomplete);
      // The README says how much is missing; the cell ids stay in the report.
      expect(await paperClaims(part, 'tiny')).toContain('\n\n**Incomplete run**: no result yet for 2 cell(s) (1 training, 1 evaluation)\n\n> Liu et al.');
      expect(await runSummary(part, 'tiny')).toMatch(/^\*\*Incomplete run\*\*: no result yet for 2 cell\(s\) \(1 training, 1 evaluation\); the run is resumable: `dcnet bench --profile tiny --publish` goes on\n/);
    });

    it('name the artifact when a published run is malformed', async () => {
      cpSync(join(root, 'results/tiny'), join(tmp, 'results/tiny'), { recursive: true });
      writeFileSync(join(tmp, 'results/tiny/report.md'), '# no tables\n');
      await expect(runSummary(tmp, 'tiny')).rejects.toThrow(/results\/tiny\/report\.md: no "## White-box robustness" table/);
      writeFileSync(join(tmp, 'results/tiny/sessions.jsonl'), '');
      await expect(modelsTable(tmp, 'tiny')).rejects.toThrow(/results\/tiny\/sessions\.jsonl: no session recorded/);
      rmSync(join(tmp, 'results/tiny/zoo/fashion-mnist-embedded/small-cnn/standard/standard/s1/manifest.json'));
      await expect(modelsTable(tmp, 'tiny')).rejects.toThrow(/results\/tiny\/zoo\/fashion-mnist-embedded\/small-cnn\/standard\/standard\/s1: no manifest\.json and no checkpoint/);
    });
  });
});
