#!/usr/bin/env node
// Regenerates docs/paper-estimate.txt: `dcnet bench --profile paper --dry-run` with a fresh
// calibration (an empty cache folder), headed by the machine it ran on and the load average
// before and after, since a calibration on a busy machine inflates every per-image cost.
// Run it on an idle machine: `npm run paper-estimate` (after `npm run build`).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measuredHeader } from './measured-header.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { writeFileAtomic } = await import(join(root, 'dist/src/io/atomic.js'));
const cache = mkdtempSync(join(tmpdir(), 'dcnet-paper-estimate-'));
const before = loadavg()[0];
try {
  const out = execFileSync(process.execPath, [join(root, 'bin/dcnet.js'), 'bench', '--profile', 'paper', '--dry-run', ...process.argv.slice(2)], {
    env: { ...process.env, DCNET_CACHE: cache },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const header = `${measuredHeader(before, ' (npm run paper-estimate)')}\n`;
  writeFileAtomic(join(root, 'docs/paper-estimate.txt'), header + out.replace(/; cached in [^\n)]*\)/, '; a fresh calibration)'));
  process.stdout.write(header + out);
} finally {
  rmSync(cache, { recursive: true, force: true });
}
