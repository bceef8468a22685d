// The README's generated blocks match what their generators render from the committed
// artifacts (scripts/readme/), and the block mechanism itself.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM scripts without type declarations
import { findBlocks, renderReadme } from '../scripts/readme/render.mjs';
// @ts-expect-error: plain ESM scripts without type declarations
import { generators } from '../scripts/readme/blocks.mjs';

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
});
