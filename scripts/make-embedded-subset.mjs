#!/usr/bin/env node
// Rebuilds data/fashion-mnist-embedded/ from the official Fashion-MNIST files: the first
// 10,000 training and the first 2,000 test examples, unchanged, as gzipped IDX files.
// Usage (after `npm run build`):
//   node scripts/make-embedded-subset.mjs [/usr/share/datasets/fashion-mnist] [out-dir]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { parseIdx, encodeIdx } = await import(join(root, 'dist/src/data/idx.js'));

const source = process.argv[2] ?? '/usr/share/datasets/fashion-mnist';
const out = process.argv[3] ?? join(root, 'data/fashion-mnist-embedded');
const KEEP = { train: 10000, t10k: 2000 };

mkdirSync(out, { recursive: true });
for (const [prefix, keep] of Object.entries(KEEP)) {
  for (const [kind, rank] of [['images-idx3-ubyte', 3], ['labels-idx1-ubyte', 1]]) {
    const name = `${prefix}-${kind}`;
    const { dims, data } = parseIdx(gunzipSync(readFileSync(join(source, `${name}.gz`))), rank, name);
    const per = dims.slice(1).reduce((a, b) => a * b, 1);
    const subset = encodeIdx([keep, ...dims.slice(1)], data.subarray(0, keep * per));
    // Level 9 and node's fixed gzip header (mtime 0) make the output reproducible.
    writeFileSync(join(out, `${name}.gz`), gzipSync(subset, { level: 9 }));
    process.stdout.write(`${name}.gz: ${keep} of ${dims[0]}\n`);
  }
}
