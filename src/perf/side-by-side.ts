// `npm run perf:side-by-side`: our wasm path and the PyTorch anchor measured cell by cell in
// alternation, several rounds, so that both see the same machine: on shared machines (steal
// time) throughput drifts by tens of percent within minutes, and separate runs compare badly.
// Each cell runs, back to back: ours on one core, ours on the whole machine (one worker thread
// and TF.js runtime per core, as `dcnet bench`), and the anchor in each configuration (glibc's
// allocator tuned or untuned, 1 thread or as many threads as cores); odd rounds run them in the
// reverse order, so a drifting machine favours no side. Reports per comparison and cell the
// median images/s of each side over the rounds and the median of the rounds' paired ratios
// (with their range), and the anchor's system time and page faults per step (whether the
// allocator setting took effect). `--save` writes it all, with machine, date and load average,
// as the artifact the README's performance block is generated from.
import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { ARCHITECTURES } from '../../models/architectures.js';
import { runEntry } from '../cli/entry.js';
import { parseInteger, parseList, parsePositiveInteger } from '../cli/options.js';
import { UsageError } from '../errors.js';
import { initBackend } from '../backend.js';
import { checkOutputFile, writeFileAtomic } from '../io/atomic.js';
import { DEFAULT_OPERATORS, NETWORK_INPUT_SHAPE } from './program.js';
import { CLOCKS, median, type Clock } from './measure.js';
import { STEP_KINDS } from './steps.js';
import { convolutionFlops, formatSpec, networkConvolutions, type ConvolutionTiming } from './convolutions.js';
import type { SimdCeiling } from './simd-ceiling.js';
import { OPT_IN_KERNELS, WITH_ENV } from '../wasm-kernels/optional.js';

interface Result {
  network: string;
  operator: string;
  step: string;
  batch: number;
  imagesPerSecond: number;
  /** The anchor's, per timed step. */
  rusage?: { userSeconds: number; systemSeconds: number; minorFaults: number };
}

interface Report {
  backend: string;
  anchor?: AnchorConfiguration;
  results: Result[];
  convolutions?: ConvolutionTiming[];
  simdCeiling?: SimdCeiling;
}

/** What the anchor reports it ran with. */
export interface AnchorConfiguration {
  torch: string;
  /** The vector instructions its kernels dispatch to (AVX2, AVX512, ...). */
  cpuCapability?: string;
  python: string;
  threads: number;
  allocator: 'tuned' | 'untuned';
  env: Record<string, string | null>;
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

/** One convolution pass of a comparison: median ms of each side; ratio > 1: ours faster. */
export interface ConvolutionSummary {
  convolution: string;
  /** Layers of this shape in the network. */
  layers: number;
  pass: string;
  /** FLOPs of one call. */
  flops: number;
  oursMs: number;
  anchorMs: number;
  /** Median over rounds of anchor ms / ours ms measured back to back. */
  ratio: number;
  ratioMin: number;
  ratioMax: number;
  rounds: number;
}

/** Pairs each round's timings of a convolution pass (the same pairing as the steps'). */
export function summariseConvolutions(
  ours: ConvolutionTiming[][],
  anchor: ConvolutionTiming[][],
  layers: Map<string, { flops: number; layers: number }>,
): ConvolutionSummary[] {
  // As step results with a rate (1/ms), so that the steps' pairing and medians apply as they are.
  const asResults = (rounds: ConvolutionTiming[][]) =>
    rounds.map((round) => round.map((t) => ({ network: '', operator: t.convolution, step: t.pass, batch: 1, imagesPerSecond: 1 / t.ms })));
  return summarise(asResults(ours), asResults(anchor)).map((c) => ({
    convolution: c.operator,
    layers: layers.get(c.operator)!.layers,
    pass: c.step,
    flops: layers.get(c.operator)!.flops,
    oursMs: 1 / c.ours,
    anchorMs: 1 / c.anchor,
    ratio: c.ratio,
    ratioMin: c.ratioMin,
    ratioMax: c.ratioMax,
    rounds: c.rounds,
  }));
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
  return [
    `${oursName} vs ${anchorName}: images/s, medians over ${cells[0]?.rounds ?? 0} alternating rounds; ratio > 1: ours faster`,
    ...table(header, rows, 2),
    '',
  ].join('\n');
}

/** A plain-text table: the first `left` columns left-aligned, the rest right-aligned. */
function table(header: string[], rows: string[][], left: number): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < left ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** An anchor configuration on the command line: `tuned-1`, `untuned-2`, ... */
export interface AnchorSpec {
  id: string;
  allocator: 'tuned' | 'untuned';
  threads: number;
}

export function parseAnchors(value: string): AnchorSpec[] {
  return parseList('--anchors')(value).map((id) => {
    const m = /^(tuned|untuned)-([1-9]\d*)$/.exec(id);
    if (!m) throw new UsageError(`Invalid anchor '${id}' in --anchors: give allocator-threads, e.g. tuned-1,untuned-2.`);
    return { id, allocator: m[1] as AnchorSpec['allocator'], threads: Number(m[2]) };
  });
}

/** One run of a cell: ours on one core, ours on `workers` cores, or an anchor configuration. */
export type RunSpec = { side: 'ours'; workers: number; id: string } | ({ side: 'anchor' } & AnchorSpec);

/** Who is compared with whom: ours on one core with every anchor; ours on the whole machine with the anchors using as many threads. */
export type Comparison = { ours: string; anchor: string; kind: 'one core' | 'whole machine' };

export function comparisons(runs: RunSpec[]): Comparison[] {
  const anchors = runs.filter((r): r is Extract<RunSpec, { side: 'anchor' }> => r.side === 'anchor');
  return runs.flatMap((o): Comparison[] => {
    if (o.side !== 'ours') return [];
    if (o.workers === 1) return anchors.map((a) => ({ ours: o.id, anchor: a.id, kind: 'one core' }));
    return anchors.filter((a) => a.threads === o.workers).map((a) => ({ ours: o.id, anchor: a.id, kind: 'whole machine' }));
  });
}

/** The order of the runs in round `round`: reversed every other round. */
export function roundOrder<T>(runs: readonly T[], round: number): T[] {
  return round % 2 === 0 ? [...runs] : [...runs].reverse();
}

function runJson(command: string, args: string[]): Report {
  const out = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (out.status !== 0) {
    throw new Error(`'${command} ${args.join(' ')}' failed (exit ${out.status}): ${(out.stderr ?? String(out.error)).trim().split('\n').slice(-3).join(' | ')}`);
  }
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as Report;
}

/** Before any timing: a Python without torch gets one line saying what to install. */
function checkPython(python: string): void {
  const out = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (out.status !== 0) {
    throw new UsageError(
      `'${python}' cannot import torch: install Debian's PyTorch (apt-get install python3-torch) or give --python <path> of a Python that has it.`,
    );
  }
}

interface Options {
  network: string[];
  rounds: number;
  operators: string[];
  only: string[];
  batch: number;
  steps: number;
  warmup?: number;
  anchors: AnchorSpec[];
  workers: number;
  wholeMachine: boolean;
  with?: string[];
  clock: Clock;
  python: string;
  json: boolean;
  save?: string;
  convolutions: boolean;
}

export interface NetworkReport {
  network: string;
  batch: number;
  /** Run id -> backend name as the run reported it. */
  backends: Record<string, string>;
  comparisons: Array<Comparison & { cells: CellSummary[] }>;
  /** Anchor id -> per cell, medians over rounds of the system time and minor page faults per step. */
  anchorRusage: Record<string, Array<{ operator: string; step: string; systemSeconds: number; minorFaults: number }>>;
  /** The network's convolution layers alone: ours on one core against each 1-thread anchor. */
  convolutions?: Array<{ ours: string; anchor: string; cells: ConvolutionSummary[] }>;
}

function anchorRusage(rounds: Result[][]): NetworkReport['anchorRusage'][string] {
  const byCell = new Map<string, Result[]>();
  for (const r of rounds.flat()) byCell.set(`${r.operator} ${r.step}`, [...(byCell.get(`${r.operator} ${r.step}`) ?? []), r]);
  return [...byCell.values()].map((rs) => ({
    operator: rs[0]!.operator,
    step: rs[0]!.step,
    systemSeconds: median(rs.map((r) => r.rusage?.systemSeconds ?? NaN)),
    minorFaults: median(rs.map((r) => r.rusage?.minorFaults ?? NaN)),
  }));
}

function formatConvolutions(cells: ConvolutionSummary[], oursName: string, anchorName: string): string {
  const gflops = (flops: number, ms: number) => (flops / ms / 1e6).toFixed(1);
  const rows = cells.map((c) => [
    c.convolution,
    c.pass,
    `${c.oursMs.toFixed(2)} (${gflops(c.flops, c.oursMs)})`,
    `${c.anchorMs.toFixed(2)} (${gflops(c.flops, c.anchorMs)})`,
    c.ratio.toFixed(2),
    `${c.ratioMin.toFixed(2)}-${c.ratioMax.toFixed(2)}`,
  ]);
  return [
    `convolutions alone, ${oursName} vs ${anchorName}: ms of the fastest call (GFLOP/s), medians over ${cells[0]?.rounds ?? 0} alternating rounds; ratio > 1: ours faster`,
    ...table(['convolution', 'pass', 'ours', 'anchor', 'ratio', 'range'], cells.length > 0 ? rows : [], 2),
    '',
  ].join('\n');
}

function formatRusage(report: NetworkReport): string {
  const rows = Object.entries(report.anchorRusage).flatMap(([id, cells]) =>
    cells.map((c) => [id, c.operator, c.step, c.systemSeconds.toFixed(3), c.minorFaults.toFixed(0)]),
  );
  return [
    "The anchor's system time and minor page faults per timed step (faults: the median step; both: medians over rounds): the tuned allocator keeps its memory",
    ...table(['anchor', 'operator', 'step', 'system s/step', 'page faults/step'], rows, 3),
    '',
  ].join('\n');
}

/** The command that measured, as a user would type it (less where it was saved). */
export function commandLine(args: string[]): string {
  const kept = args.filter((a, i) => !(a === '--save' || a.startsWith('--save=') || args[i - 1] === '--save'));
  return ['npm run perf:side-by-side', ...(kept.length > 0 ? ['--', ...kept] : [])].join(' ');
}

async function main(): Promise<void> {
  const cores = availableParallelism();
  const o = new Command()
    .name('npm run perf:side-by-side --')
    .description('wasm vs the PyTorch anchor, cell by cell in alternation over several rounds')
    .option('--network <names>', `comma-separated networks (${ARCHITECTURES.join(', ')})`, parseList('--network', ARCHITECTURES), ['small-cnn'])
    .option('--rounds <n>', 'rounds (each cell: every run back to back)', parsePositiveInteger('--rounds'), 3)
    .option('--operators <ids>', 'comma-separated operator ids', parseList('--operators'), DEFAULT_OPERATORS)
    .option('--only <steps>', `comma-separated steps (${STEP_KINDS.join(', ')})`, parseList('--only', STEP_KINDS), [...STEP_KINDS])
    .option('--batch <n>', 'images per step', parsePositiveInteger('--batch'), 128)
    .option('--steps <n>', 'timed steps per cell and run (median step)', parsePositiveInteger('--steps'), 20)
    .option('--warmup <n>', "untimed steps first (default: each side's, 3)", parseInteger('--warmup', { min: 0 }))
    .option('--workers <n>', 'cores of the whole-machine comparison: our worker threads, the anchor threads', parsePositiveInteger('--workers'), cores)
    .option('--anchors <ids>', 'anchor configurations, allocator-threads (default: tuned and untuned, 1 thread and --workers threads)', parseAnchors)
    .option('--no-whole-machine', 'skip ours on --workers worker threads')
    .option(
      '--with <kernels>',
      `our opt-in kernels (${Object.keys(OPT_IN_KERNELS).join(', ')}; sets ${WITH_ENV} for our runs, default none: results differ from the default kernels in the last bits)`,
      parseList('--with', Object.keys(OPT_IN_KERNELS)),
    )
    .option('--no-convolutions', "skip the network's convolution layers alone (each pass, ours on one core and the 1-thread anchors) and the SIMD ceiling")
    .addOption(new Option('--clock <clock>', 'wall: elapsed time; cpu: process CPU time (one-core runs only)').choices([...CLOCKS]).default('wall'))
    .option('--python <path>', 'Python with torch', '/usr/bin/python3')
    .option('--json', 'print one JSON object instead of the tables', false)
    .option('--save <file>', 'also write the JSON, with machine, date and load average (the README artifact)')
    .exitOverride()
    .parse(process.argv)
    .opts<Options>();
  if (o.save) checkOutputFile(o.save, '--save');
  // Our runs (child processes) inherit it; the parent's own backend below too.
  process.env[WITH_ENV] = (o.with ?? []).join(',');
  const anchors = o.anchors ?? [...new Set([1, o.workers])].flatMap((t) => (['tuned', 'untuned'] as const).map((a) => ({ id: `${a}-${t}`, allocator: a, threads: t })));
  const wholeMachine = o.wholeMachine && o.workers > 1;
  if (wholeMachine && o.clock !== 'wall') throw new UsageError(`--clock ${o.clock} cannot time parallel workers: use --clock wall, or --no-whole-machine.`);
  checkPython(o.python);
  const runs: RunSpec[] = [
    { side: 'ours', workers: 1, id: 'ours-1' },
    ...(wholeMachine ? [{ side: 'ours' as const, workers: o.workers, id: `ours-${o.workers}` }] : []),
    ...anchors.map((a) => ({ side: 'anchor' as const, ...a })),
  ];
  const loadBefore = loadavg();
  const started = new Date();
  const anchorScript = fileURLToPath(new URL('../../../src/perf/pytorch_anchor.py', import.meta.url));
  const reports: NetworkReport[] = [];
  const configurations: Record<string, AnchorConfiguration> = {};
  const ceilings: SimdCeiling[] = [];
  // The layers' shapes come from our models, built here on the wasm backend (quiet; the cpu
  // backend greets Node users on stderr).
  if (o.convolutions) await initBackend('wasm');
  for (const network of o.network) {
    const measured = new Map<string, Result[][]>(runs.map((r) => [r.id, []]));
    const backends: Record<string, string> = {};
    // The convolution layers alone: ours on one core and the anchors on one thread.
    const convRuns = o.convolutions ? runs.filter((r) => (r.side === 'ours' ? r.workers === 1 : r.threads === 1)) : [];
    const convSpecs = o.convolutions ? networkConvolutions(network, NETWORK_INPUT_SHAPE[network]!, o.batch) : [];
    const convTimed = new Map<string, ConvolutionTiming[][]>(convRuns.map((r) => [r.id, []]));
    for (let round = 0; round < o.rounds; round++) {
      const thisRound = new Map<string, Result[]>(runs.map((r) => [r.id, []]));
      for (const operator of o.operators) {
        for (const step of o.only) {
          const cell = ['--json', '--network', network, '--operators', operator, '--only', step, '--batch', String(o.batch), '--steps', String(o.steps), '--clock', o.clock];
          if (o.warmup !== undefined) cell.push('--warmup', String(o.warmup));
          const rates: string[] = [];
          // Our runs skip perf's per-kernel profile and SIMD ceiling: only images/s are compared.
          const ours = [...cell, '--profile-steps', '0'];
          for (const run of roundOrder(runs, round)) {
            const report =
              run.side === 'ours'
                ? run.workers === 1
                  ? runJson(process.execPath, [fileURLToPath(new URL('./cli.js', import.meta.url)), ...ours])
                  : runJson(process.execPath, [fileURLToPath(new URL('./workers.js', import.meta.url)), ...ours, '--workers', String(run.workers)])
                : runJson(o.python, [anchorScript, ...cell, '--threads', String(run.threads), ...(run.allocator === 'untuned' ? ['--untuned'] : [])]);
            backends[run.id] = report.backend;
            if (report.anchor) configurations[run.id] = report.anchor;
            thisRound.get(run.id)!.push(...report.results);
            rates.push(`${run.id} ${report.results[0]!.imagesPerSecond.toFixed(0)}`);
          }
          process.stderr.write(`  ${network} round ${round + 1}/${o.rounds} ${operator} ${step}: ${rates.join(', ')} images/s\n`);
        }
      }
      for (const [id, results] of thisRound) measured.get(id)!.push(results);
      if (convRuns.length > 0 && convSpecs.length > 0) {
        const conv = ['--json', '--convolutions', convSpecs.map(formatSpec).join(','), '--steps', String(o.steps), '--clock', o.clock];
        if (o.warmup !== undefined) conv.push('--warmup', String(o.warmup));
        for (const run of roundOrder(convRuns, round)) {
          const report =
            run.side === 'ours'
              ? runJson(process.execPath, [fileURLToPath(new URL('./cli.js', import.meta.url)), ...conv])
              : runJson(o.python, [anchorScript, ...conv, '--threads', '1', ...(run.allocator === 'untuned' ? ['--untuned'] : [])]);
          convTimed.get(run.id)!.push(report.convolutions!);
        }
        ceilings.push(runJson(process.execPath, [fileURLToPath(new URL('./cli.js', import.meta.url)), '--ceiling', '--json', '--clock', o.clock]).simdCeiling!);
        process.stderr.write(`  ${network} round ${round + 1}/${o.rounds}: ${convSpecs.length} convolution layers alone timed, SIMD ceiling ${ceilings.at(-1)!.registers.toFixed(1)} GFLOP/s\n`);
      }
    }
    const layers = new Map(convSpecs.map((c) => [formatSpec(c), { flops: convolutionFlops(c), layers: c.layers }]));
    reports.push({
      network,
      batch: o.batch,
      backends,
      comparisons: comparisons(runs).map((c) => ({ ...c, cells: summarise(measured.get(c.ours)!, measured.get(c.anchor)!) })),
      anchorRusage: Object.fromEntries(anchors.map((a) => [a.id, anchorRusage(measured.get(a.id)!)])),
      ...(convSpecs.length > 0 && convRuns.length > 1
        ? {
            convolutions: convRuns
              .filter((r) => r.side === 'anchor')
              .map((a) => ({ ours: 'ours-1', anchor: a.id, cells: summariseConvolutions(convTimed.get('ours-1')!, convTimed.get(a.id)!, layers) })),
          }
        : {}),
    });
  }
  const artifact = {
    command: commandLine(process.argv.slice(2)),
    date: started.toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, platform: `${process.platform}-${process.arch}` },
    loadAverage: { before: loadBefore[0]!, after: loadavg()[0]! },
    settings: { rounds: o.rounds, batch: o.batch, timedSteps: o.steps, warmup: o.warmup ?? 3, clock: o.clock, workers: wholeMachine ? o.workers : 1, operators: o.operators, stepKinds: o.only },
    anchors: anchors.map((a) => ({ id: a.id, ...configurations[a.id]! })),
    ...(ceilings.length > 0
      ? { simdCeiling: { registers: median(ceilings.map((c) => c.registers)), l1Loads: median(ceilings.map((c) => c.l1Loads)), measurements: ceilings.length } }
      : {}),
    networks: reports,
  };
  if (o.save) writeFileAtomic(o.save, `${JSON.stringify(artifact, null, 2)}\n`);
  if (o.json) {
    process.stdout.write(`${JSON.stringify(artifact)}\n`);
    return;
  }
  for (const r of reports) {
    process.stdout.write(`\n${r.network}, batch ${r.batch}\n`);
    for (const c of r.comparisons) process.stdout.write(`${c.kind}: ${formatSummary(c.cells, r.backends[c.ours]!, r.backends[c.anchor]!)}\n`);
    for (const c of r.convolutions ?? []) process.stdout.write(formatConvolutions(c.cells, r.backends[c.ours]!, r.backends[c.anchor]!));
    process.stdout.write(formatRusage(r));
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runEntry('perf:side-by-side', main);
}
