#!/usr/bin/env node
// `npm run readme`: rewrites README.md's generated blocks from the committed artifacts.
// `npm run readme -- --check`: exits 1 (and says which blocks) when README.md is not current.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generators } from './blocks.mjs';
import { findBlocks, renderReadme } from './render.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { writeFileAtomic } = await import(join(root, 'dist/src/io/atomic.js'));
const path = join(root, 'README.md');
const text = readFileSync(path, 'utf8');
const next = await renderReadme(text, generators, root);
if (process.argv.includes('--check')) {
  if (next === text) process.exit(0);
  const now = findBlocks(text);
  const want = findBlocks(next);
  const stale = now.filter((b, i) => text.slice(b.bodyStart, b.bodyEnd) !== next.slice(want[i].bodyStart, want[i].bodyEnd)).map((b) => b.name);
  console.error(`README.md is not current (blocks: ${stale.join(', ') || 'outside blocks'}): run npm run readme`);
  process.exit(1);
}
writeFileAtomic(path, next);
console.log(next === text ? 'README.md is current' : 'README.md updated');
