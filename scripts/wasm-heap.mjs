#!/usr/bin/env node
// The wasm backend's heap high-water mark of `dcnet train` runs (issue 10: resnet32 at batch
// 128 did not fit the 4 GiB heap). Each model trains in its own process, because the heap
// never shrinks: its size when the process exits is the run's peak.
// Usage (after `npm run build`):
//   node scripts/wasm-heap.mjs [--batch 128] [--train-limit 256] [--dcnet bin/dcnet.js]
//     [--out docs/wasm-heap.txt] [model ...]
// A model is <architecture>/<operator>[/lr] (lr: --learnable-radius); the default list is
// cnn9 and resnet32 with standard, tanh-cosine (fixed and learnable radius), tanh-linear
// (bounded) and seg-sigmoid (unbounded). --dcnet runs another checkout's CLI (a before/after);
// --out also writes the table, with the machine and its load, for the README's block.
import { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measuredHeader } from './measured-header.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const program = new Command('wasm-heap')
  .option('--batch <n>', 'training batch', '128')
  .option('--train-limit <n>', 'training images (steps = this / batch)', '256')
  .option('--dcnet <path>', 'the CLI to run', join(root, 'bin/dcnet.js'))
  .option('--out <file>', 'also write the table to this file')
  .argument('[models...]')
  .parse();
const o = program.opts();
const models = program.args.length
  ? program.args
  : ['cnn9', 'resnet32'].flatMap((a) => ['standard', 'tanh-cosine', 'tanh-cosine/lr', 'tanh-linear', 'seg-sigmoid'].map((m) => `${a}/${m}`));

// Loaded into each run: at exit, writes the heap size and the CPU time to a file.
const probe = `data:text/javascript,${encodeURIComponent(`
  import { writeFileSync } from 'node:fs';
  process.on('exit', () => {
    const memory = globalThis._tfengine?.registry?.wasm?.wasm?.asm?.memory;
    const cpu = process.cpuUsage();
    writeFileSync(process.env.WASM_HEAP_REPORT, JSON.stringify({ heap: memory ? memory.buffer.byteLength : null, cpu: (cpu.user + cpu.system) / 1e6 }));
  });
`)}`;

const work = mkdtempSync(join(tmpdir(), 'wasm-heap-'));
const load = loadavg()[0];
const lines = [
  `batch ${o.batch}, ${o.trainLimit} training images (${Math.ceil(Number(o.trainLimit) / Number(o.batch))} step${Number(o.trainLimit) > Number(o.batch) ? 's' : ''}), fashion-mnist-embedded, --backend wasm`,
  'model                          exit  heap GiB  CPU s  wall s  last line',
];
lines.forEach((l) => console.log(l));
for (const m of models) {
  const [arch, op, lr] = m.split('/');
  const report = join(work, 'report.json');
  rmSync(report, { force: true });
  const args = ['--import', probe, o.dcnet, 'train', '--model', `fashion-mnist-embedded/${arch}/${op}/standard/s0`,
    '--epochs', '1', '--batch', o.batch, '--train-limit', o.trainLimit, '--test-limit', '128',
    '--backend', 'wasm', '--out', join(work, m.replaceAll('/', '_')), '--force', ...(lr === 'lr' ? ['--learnable-radius'] : [])];
  const start = Date.now();
  const run = spawnSync(process.execPath, args, { env: { ...process.env, WASM_HEAP_REPORT: report }, encoding: 'utf8' });
  const wall = (Date.now() - start) / 1000;
  let r = { heap: null, cpu: NaN };
  try {
    r = JSON.parse(readFileSync(report, 'utf8'));
  } catch {}
  const last = `${run.stderr}`.trim().split('\n').filter((l) => l && !/tfjs-node|=====|^Hi, looks/.test(l)).pop() ?? '';
  const heap = r.heap === null ? '-' : (r.heap / 2 ** 30).toFixed(2);
  const row = `${m.padEnd(30)} ${String(run.status ?? run.signal).padEnd(5)} ${heap.padStart(8)} ${r.cpu.toFixed(0).padStart(6)} ${wall.toFixed(0).padStart(7)}  ${last.slice(0, 100)}`;
  console.log(row);
  lines.push(row);
  if (o.out) write(o.out, lines); // after every run: a long series stopped early keeps its rows
}
rmSync(work, { recursive: true, force: true });

function write(file, rows) {
  const header = measuredHeader(load);
  writeFileSync(`${file}.tmp`, [header, ...rows, ''].join('\n'));
  renameSync(`${file}.tmp`, file);
}
