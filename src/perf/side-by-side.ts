// `npm run perf:side-by-side`: our wasm path and the PyTorch anchor measured cell by cell in
// alternation, several rounds, so that both see the same machine: on shared machines (steal
// time) throughput drifts by tens of percent within minutes, and separate runs compare badly.
// Reports per cell the median images/s of each side over the rounds and the median of the
// rounds' paired ratios (with their range).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { runEntry } from '../cli/entry.js';
import { parseList, parsePositiveInteger } from '../cli/options.js';
import { DEFAULT_OPERATORS } from './program.js';
import { median } from './measure.js';
import { STEP_KINDS } from './steps.js';

interface Result {
  network: string;
  operator: string;
  step: string;
  batch: number;
  imagesPerSecond: number;
}

export interface CellSummary {
  operator: string;
  step: string;
  ours: number;
  anchor: number;
  /** Median over rounds of ours / anchor measured back to back. */
  ratio: number;
  ratioMin: number;
  ratioMax: number;
  rounds: number;
}

/** Pairs each round's measurements of a cell and summarises them. */
export function summarise(ours: Result[][], anchor: Result[][]): CellSummary[] {
  const cells = new Map<string, { operator: string; step: string; ours: number[]; anchor: number[] }>();
  const add = (rounds: Result[][], side: 'ours' | 'anchor') => {
    for (const round of rounds) {
      for (const r of round) {
        const k = `${r.operator} ${r.step}`;
        const cell = cells.get(k) ?? { operator: r.operator, step: r.step, ours: [], anchor: [] };
        cell[side].push(r.imagesPerSecond);
        cells.set(k, cell);
      }
    }
  };
  add(ours, 'ours');
  add(anchor, 'anchor');
  return [...cells.values()].map((c) => {
    const n = Math.min(c.ours.length, c.anchor.length);
    const ratios = Array.from({ length: n }, (_, i) => c.ours[i]! / c.anchor[i]!);
    return {
      operator: c.operator,
      step: c.step,
      ours: median(c.ours),
      anchor: median(c.anchor),
      ratio: n > 0 ? median(ratios) : NaN,
      ratioMin: Math.min(...ratios),
      ratioMax: Math.max(...ratios),
      rounds: n,
    };
  });
}

export function formatSummary(cells: CellSummary[], oursName: string, anchorName: string): string {
  const standard = new Map(cells.filter((c) => c.operator === 'standard').map((c) => [c.step, c.ours]));
  const rows = cells.map((c) => {
    const s = standard.get(c.step);
    return [
      c.operator,
      c.step,
      c.ours.toFixed(0),
      c.anchor.toFixed(0),
      c.ratio.toFixed(2),
      `${c.ratioMin.toFixed(2)}-${c.ratioMax.toFixed(2)}`,
      s === undefined ? '-' : `${(s / c.ours).toFixed(2)}x`,
    ];
  });
  const header = ['operator', 'step', 'ours', 'anchor', 'ratio', 'range', 'time vs standard'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    `${oursName} vs ${anchorName}: images/s, medians over ${cells[0]?.rounds ?? 0} alternating rounds; ratio > 1: ours faster`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
  ].join('\n');
}

function runJson(command: string, args: string[]): { backend: string; results: Result[] } {
  const out = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (out.status !== 0) {
    throw new Error(`'${command} ${args.join(' ')}' failed (exit ${out.status}): ${out.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as { backend: string; results: Result[] };
}

interface Options {
  rounds: number;
  operators: string[];
  only: string[];
  steps: number;
  json: boolean;
  python: string;
}

function main(): void {
  const o = new Command()
    .name('npm run perf:side-by-side --')
    .description('wasm vs the PyTorch anchor, cell by cell in alternation over several rounds')
    .option('--rounds <n>', 'rounds (each cell: ours and anchor back to back)', parsePositiveInteger('--rounds'), 3)
    .option('--operators <ids>', 'comma-separated operator ids', parseList('--operators'), DEFAULT_OPERATORS)
    .option('--only <steps>', `comma-separated steps (${STEP_KINDS.join(', ')})`, parseList('--only', STEP_KINDS), [...STEP_KINDS])
    .option('--steps <n>', 'timed steps per cell and run (median step)', parsePositiveInteger('--steps'), 20)
    .option('--python <path>', 'Python with torch', '/usr/bin/python3')
    .option('--json', 'print one JSON object instead of the table', false)
    .exitOverride()
    .parse(process.argv)
    .opts<Options>();
  const ourCli = fileURLToPath(new URL('./cli.js', import.meta.url));
  const anchorScript = fileURLToPath(new URL('../../../src/perf/pytorch_anchor.py', import.meta.url));
  const ours: Result[][] = [];
  const anchor: Result[][] = [];
  let names = { ours: 'ours', anchor: 'anchor' };
  for (let round = 0; round < o.rounds; round++) {
    const oursRound: Result[] = [];
    const anchorRound: Result[] = [];
    for (const operator of o.operators) {
      for (const step of o.only) {
        const cell = ['--json', '--operators', operator, '--only', step, '--steps', String(o.steps)];
        const runOurs = () => runJson(process.execPath, [ourCli, ...cell]);
        const runAnchor = () => runJson(o.python, [anchorScript, ...cell]);
        // Alternate who goes first, so a drifting machine favours neither side.
        let oursReport;
        let anchorReport;
        if (round % 2 === 0) {
          oursReport = runOurs();
          anchorReport = runAnchor();
        } else {
          anchorReport = runAnchor();
          oursReport = runOurs();
        }
        names = { ours: oursReport.backend, anchor: anchorReport.backend };
        oursRound.push(...oursReport.results);
        anchorRound.push(...anchorReport.results);
        const rate = (r: { results: Result[] }) => r.results[0]!.imagesPerSecond.toFixed(0);
        process.stderr.write(`  round ${round + 1}/${o.rounds} ${operator} ${step}: ${rate(oursReport)} vs ${rate(anchorReport)} images/s\n`);
      }
    }
    ours.push(oursRound);
    anchor.push(anchorRound);
  }
  const cells = summarise(ours, anchor);
  if (o.json) process.stdout.write(`${JSON.stringify({ ours: names.ours, anchor: names.anchor, cells })}\n`);
  else process.stdout.write(formatSummary(cells, names.ours, names.anchor));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runEntry('perf:side-by-side', main);
}
