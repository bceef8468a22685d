// `npm run perf:compare -- ours.json anchor.json`: ratios of two `--json` reports cell by cell
// (ours / anchor), e.g. TF.js wasm against the PyTorch anchor measured in the same run, and
// each decoupled operator's time relative to the standard convolution's.
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { runEntry } from '../cli/entry.js';

interface Report {
  backend: string;
  results: Array<{ network: string; operator: string; step: string; batch: number; imagesPerSecond: number }>;
}

function readReport(path: string): Report {
  let report: Report;
  try {
    report = JSON.parse(readFileSync(path, 'utf8')) as Report;
  } catch (err) {
    throw new UsageError(`Cannot read a perf report from '${path}': ${(err as Error).message}`);
  }
  if (!report || !Array.isArray(report.results)) {
    throw new UsageError(`'${path}' is not a perf report: expected {"backend": ..., "results": [...]}.`);
  }
  return report;
}

const key = (r: Report['results'][number]) => `${r.network} ${r.operator} ${r.step} ${r.batch}`;

export function compareReports(ours: Report, anchor: Report): string {
  const theirs = new Map(anchor.results.map((r) => [key(r), r.imagesPerSecond]));
  const standard = new Map(
    ours.results.filter((r) => r.operator === 'standard').map((r) => [`${r.network} ${r.step} ${r.batch}`, r.imagesPerSecond]),
  );
  const lines = [
    `${ours.backend} vs ${anchor.backend} (images/s; ratio > 1: ${ours.backend} faster)`,
    `${'operator'.padEnd(14)} ${'step'.padEnd(14)} ${'ours'.padStart(8)} ${'anchor'.padStart(8)} ${'ratio'.padStart(6)} ${'time vs standard'.padStart(17)}`,
  ];
  for (const r of ours.results) {
    const a = theirs.get(key(r));
    const s = standard.get(`${r.network} ${r.step} ${r.batch}`);
    lines.push(
      `${r.operator.padEnd(14)} ${r.step.padEnd(14)} ${r.imagesPerSecond.toFixed(0).padStart(8)} ` +
        `${a === undefined ? '-'.padStart(8) : a.toFixed(0).padStart(8)} ` +
        `${a === undefined ? '-'.padStart(6) : (r.imagesPerSecond / a).toFixed(2).padStart(6)} ` +
        `${s === undefined ? '-'.padStart(17) : `${(s / r.imagesPerSecond).toFixed(2)}x`.padStart(17)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function main(argv: string[]): void {
  if (argv.length !== 2) {
    throw new UsageError('Usage: npm run perf:compare -- <ours.json> <anchor.json> (outputs of --json)');
  }
  process.stdout.write(compareReports(readReport(argv[0]!), readReport(argv[1]!)));
}

await runEntry('perf:compare', () => main(process.argv.slice(2)));
