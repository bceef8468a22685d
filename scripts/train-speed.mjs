#!/usr/bin/env node
// Training throughput of zoo models side by side (same data, same run, interleaved rounds so
// machine load hits every model alike). Usage (after `npm run build`):
//   node scripts/train-speed.mjs [--images 1024] [--rounds 2] [--backend wasm] [id ...]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Command } from 'commander';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { initBackend } = await import(join(root, 'dist/src/backend.js'));
const { trainModel } = await import(join(root, 'dist/models/zoo/index.js'));
const { parsePositiveInteger } = await import(join(root, 'dist/src/cli/options.js'));
const { runEntry } = await import(join(root, 'dist/src/cli/entry.js'));

await runEntry('train-speed', main);

async function main() {
  const program = new Command()
    .name('node scripts/train-speed.mjs')
    .argument('[id...]', 'zoo model ids (default: five small-cnn models of the embedded set)')
    .option('--images <n>', 'training images per epoch', parsePositiveInteger('--images'), 1024)
    .option('--rounds <n>', 'interleaved rounds (best one kept)', parsePositiveInteger('--rounds'), 2)
    .option('--backend <name>', 'TF.js backend', 'auto')
    .exitOverride()
    .parse(process.argv);
  const { images, rounds } = program.opts();
  const args = program.args;
  const backend = await initBackend(program.opts().backend);
  const ids = args.length
    ? args
    : ['standard/standard', 'tanh-cosine/standard', 'linear-cosine/standard', 'standard/fgsm-at', 'standard/pgd-at'].map(
        (s) => `fashion-mnist-embedded/small-cnn/${s}/s0`,
      );

  const tmp = mkdtempSync(join(tmpdir(), 'dcnet-train-speed-'));
  const rates = Object.fromEntries(ids.map((id) => [id, []]));
  try {
    for (let r = 0; r < rounds; r++) {
      for (const id of ids) {
        const { manifest } = await trainModel({ id, out: join(tmp, `${r}-${ids.indexOf(id)}`), epochs: 1, trainLimit: images, testLimit: 128 });
        rates[id].push(manifest.trainImagesPerSecond);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const base = Math.max(...rates[ids[0]]);
  process.stdout.write(`backend: ${backend.description}; ${images} images x 1 epoch, batch 128, best of ${rounds} rounds\n`);
  for (const id of ids) {
    const best = Math.max(...rates[id]);
    process.stdout.write(`${id.padEnd(60)} ${best.toFixed(0).padStart(6)} images/s  ${(best / base).toFixed(2)}x\n`);
  }
}
