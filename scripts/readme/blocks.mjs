// The README's generated blocks: name -> async (repositoryRoot) => markdown.
// Each generator reads committed artifacts only (never runs a measurement), so that
// `npm run readme` is fast and `test/readme.test.ts` can check the README against them.
// To add one: put `<!-- generated:NAME --><!-- /generated:NAME -->` where it belongs in
// README.md, add NAME here, run `npm run readme` and commit both.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A clear error naming the artifact, for a generator whose input is missing or malformed. */
export function artifactError(file, what) {
  return new Error(`${file}: ${what} (regenerate it, see the README block's generator in scripts/readme/blocks.mjs)`);
}

function paperEstimate(root) {
  const file = 'docs/paper-estimate.txt';
  const text = readFileSync(join(root, file), 'utf8');
  const machine = text.match(/^# measured (\S+) on (.+?) \((\d+) cores\), Node \S+; load average ([\d.]+) before, ([\d.]+) after/m);
  const est = text.match(/^estimate: ([\d.]+) CPU-hours \(training ([\d.]+), attacks ([\d.]+)\)/m);
  const backend = text.match(/^per-image cost on (\S+) /m);
  if (!machine || !est || !backend) throw artifactError(file, 'no "# measured" header, "per-image cost on" or "estimate:" line');
  const [, date, cpu, cores, before, after] = machine;
  const [, total, train, attacks] = est;
  const fmt = (h) => Number(h).toLocaleString('en-US');
  return (
    `Estimated cost of the paper profile on this project's development machine (${cpu}, ${cores} cores, ` +
    `${backend[1]} backend, calibrated ${date} at load average ${before}-${after}): ` +
    `**${fmt(total)} CPU-hours** (training ${fmt(train)}, attacks ${fmt(attacks)}); the full output is in ` +
    `[docs/paper-estimate.txt](docs/paper-estimate.txt) (\`npm run paper-estimate\` regenerates it).`
  );
}

function wasmHeap(root) {
  const file = 'docs/wasm-heap.txt';
  const text = readFileSync(join(root, file), 'utf8');
  const machine = text.match(/^# measured (\S+) on (.+?) \((\d+) cores\)/m);
  const setting = text.match(/^batch (\d+), (\d+) training images \((\d+) steps?\)/m);
  const rows = [...text.matchAll(/^(\S+\/\S+)\s+(\S+)\s+([\d.]+|-)\s+\d+\s+\d+/gm)];
  if (!machine || !setting || rows.length === 0) throw artifactError(file, 'no "# measured" header, "batch" line or model rows');
  const table = rows.map(([, model, exit, heap]) =>
    `| ${model.replace(/\/lr$/, ', learnable radius').replace('/', ' ')} | ${heap === '-' ? '-' : `${heap} GiB`} | ${exit === '0' ? 'yes' : `no (exit ${exit})`} |`);
  return [
    `Peak wasm heap of \`dcnet train\` at batch ${setting[1]} (${setting[3]} step${setting[3] === '1' ? '' : 's'} on the embedded ` +
      `Fashion-MNIST, then the test accuracy), measured ${machine[1]} on ${machine[2]} with ` +
      `\`node scripts/wasm-heap.mjs --batch ${setting[1]} --train-limit ${setting[2]} --out docs/wasm-heap.txt\` (the heap ` +
      'never shrinks: its size at exit is the peak; at most 4 GiB):',
    '',
    '| model | heap | completed |',
    '| --- | --- | --- |',
    ...table,
  ].join('\n');
}

export const generators = {
  'paper-estimate': paperEstimate,
  'wasm-heap': wasmHeap,
};
