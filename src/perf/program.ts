// The perf program: images per second of training, forward and input-gradient steps of the
// reference network (small-cnn) for the standard and decoupled operators, then a per-kernel
// profile of each step: the convolutions' GFLOP/s next to the measured ceiling of 128-bit wasm
// SIMD on this core. `--json` prints one JSON object instead of the tables. Entry: cli.ts.
import { Command, Option } from 'commander';
import { ARCHITECTURES } from '../../models/architectures.js';
import { BACKEND_OPTION_HELP, startRuntime, UsageError } from '../cli/runtime.js';
import { backendLabel } from '../backend.js';
import { parseInteger, parseList, parsePositiveInteger } from '../cli/options.js';
import { parseOperatorId } from '../ops/options.js';
import { CLOCKS, measureCell, profileCell, type Clock, type PerfResult, type PerfSettings } from './measure.js';
import { CONV_KERNELS, type StepProfile } from './kernel-profile.js';
import { measureSimdCeiling, type SimdCeiling } from './simd-ceiling.js';
import { parseSpec, timeConvolution, type ConvolutionSpec } from './convolutions.js';
import { STEP_KINDS, type StepKind } from './steps.js';

export const DEFAULT_OPERATORS = ['standard', 'tanh-cosine', 'linear-cosine'];

export interface PerfOptions {
  backend: string;
  json: boolean;
  network: string;
  operators: string[];
  only: StepKind[];
  batch: number;
  steps: number;
  warmup: number;
  /** Default: the network's dataset shape (28x28x1 for small-cnn, 32x32x3 for cnn9 and resnet32). */
  inputShape?: [number, number, number];
  seed: number;
  clock: Clock;
  /** Steps of the per-kernel profile per cell (0: none). */
  profileSteps: number;
  /** Only measure the SIMD ceiling. */
  ceiling?: boolean;
  /** Only time these convolution layers alone, pass by pass. */
  convolutions?: ConvolutionSpec[];
}

/** A cell's timing and, unless turned off, its per-kernel profile. */
export interface PerfRow extends PerfResult {
  profile?: StepProfile;
}

/** The image shape each network is studied on (Fashion-MNIST, CIFAR-10). */
export const NETWORK_INPUT_SHAPE: Record<string, [number, number, number]> = { 'small-cnn': [28, 28, 1], 'small-cnn-bn': [28, 28, 1], cnn9: [32, 32, 3], resnet32: [32, 32, 3] };

/** height,width,channels */
function shape(value: string): [number, number, number] {
  const dims = parseList('--input-shape')(value).map(parsePositiveInteger('--input-shape'));
  if (dims.length !== 3) throw new UsageError(`Invalid --input-shape '${value}': give height,width,channels, e.g. 28,28,1.`);
  return dims as [number, number, number];
}

export function buildPerfProgram(): Command {
  return new Command()
    .name('npm run perf --')
    .description('Images per second of train / forward / inputGradient steps (fixed number of steps)')
    .option('--backend <name>', BACKEND_OPTION_HELP, 'auto')
    .option('--json', 'print one JSON object instead of a table', false)
    .addOption(new Option('--network <name>', 'architecture').choices([...ARCHITECTURES]).default('small-cnn'))
    .option('--operators <ids>', 'comma-separated operator ids', parseList('--operators'), DEFAULT_OPERATORS)
    .option('--only <steps>', `comma-separated steps (${STEP_KINDS.join(', ')})`, parseList('--only', STEP_KINDS), [...STEP_KINDS])
    .option('--batch <n>', 'images per step', parsePositiveInteger('--batch'), 128)
    .option('--steps <n>', 'timed steps per cell (images/s from the median step)', parsePositiveInteger('--steps'), 20)
    .option('--warmup <n>', 'untimed steps first', parseInteger('--warmup', { min: 0 }), 3)
    .option('--input-shape <h,w,c>', "image shape (default: the network's, 28,28,1 or 32,32,3)", shape)
    .option('--seed <n>', 'seed of weights and data', parseInteger('--seed'), 1)
    .addOption(
      new Option('--clock <clock>', 'wall: elapsed time; cpu: process CPU time (steadier on a shared machine)')
        .choices([...CLOCKS])
        .default('wall'),
    )
    .option('--profile-steps <n>', 'steps of the per-kernel profile per cell (0: no profile)', parseInteger('--profile-steps', { min: 0 }), 3)
    .option('--ceiling', 'only measure the 128-bit wasm SIMD ceiling of this core', false)
    .option(
      '--convolutions <specs>',
      'only time these convolution layers alone, each pass (comma-separated NxHxWxC:KHxKWxCxCOUT:sSTRIDE:same|valid; the fastest of --steps timed calls)',
      (v: string) => parseList('--convolutions')(v).map(parseSpec),
    );
}

/** Runs every cell; the report goes to `print` (stdout), progress to stderr. */
export async function runPerf(
  o: PerfOptions,
  print: (text: string) => void = (text) => process.stdout.write(text),
): Promise<PerfRow[]> {
  if (o.ceiling) {
    const simdCeiling = measureSimdCeiling({ clock: o.clock });
    print(o.json ? `${JSON.stringify({ simdCeiling })}\n` : `${formatCeiling(simdCeiling, o.clock)}\n`);
    return [];
  }
  // Unknown operator ids fail before any timing.
  for (const id of o.operators) {
    try {
      parseOperatorId(id);
    } catch (err) {
      throw new UsageError(`Invalid operator '${id}' in --operators: ${(err as Error).message}`);
    }
  }
  const info = await startRuntime(o.backend, o.json);
  if (o.convolutions) {
    const convolutions = o.convolutions.flatMap((spec) => timeConvolution(spec, { steps: o.steps, warmup: o.warmup, seed: o.seed, clock: o.clock }));
    print(
      o.json
        ? `${JSON.stringify({ backend: backendLabel(info), convolutions })}\n`
        : `${convolutions.map((c) => `${c.convolution.padEnd(32)} ${c.pass.padEnd(15)} ${c.ms.toFixed(2).padStart(8)} ms`).join('\n')}\n`,
    );
    return [];
  }
  const settings: PerfSettings = {
    inputShape: o.inputShape ?? NETWORK_INPUT_SHAPE[o.network]!,
    classes: 10,
    steps: o.steps,
    warmup: o.warmup,
    seed: o.seed,
    clock: o.clock,
  };
  const results: PerfRow[] = [];
  for (const operator of o.operators) {
    for (const step of o.only) {
      const cell = { network: o.network, operator, step, batch: o.batch };
      const r: PerfRow = measureCell(cell, settings);
      if (o.profileSteps > 0) r.profile = await profileCell(cell, settings, o.profileSteps);
      results.push(r);
      if (!o.json) process.stderr.write(`  ${operator} ${step}: ${r.imagesPerSecond.toFixed(0)} images/s\n`);
    }
  }
  const simdCeiling = o.profileSteps > 0 ? measureSimdCeiling({ clock: o.clock }) : undefined;
  if (o.json) {
    print(`${JSON.stringify({ backend: backendLabel(info), results, ...(simdCeiling ? { simdCeiling } : {}) })}\n`);
  } else {
    print(formatTable(info.description, results, o));
    if (simdCeiling) print(formatProfiles(results, simdCeiling, o));
  }
  return results;
}

function formatCeiling(c: SimdCeiling, clock: Clock): string {
  return (
    `128-bit wasm SIMD ceiling on this core (${clock} clock): ${c.registers.toFixed(1)} GFLOP/s f32x4 mul+add from registers, ` +
    `${c.l1Loads.toFixed(1)} GFLOP/s with the direct convolution's loads from L1`
  );
}

/** One row per cell: the convolutions' share, GFLOP/s and fraction of the ceiling; the next kernels. */
export function formatProfiles(results: PerfRow[], c: SimdCeiling, o: Pick<PerfOptions, 'profileSteps' | 'clock'>): string {
  const ceiling = Math.max(c.registers, c.l1Loads);
  const header = ['operator', 'step', 'conv GFLOP', 'conv ms', 'of kernels', 'conv GFLOP/s', 'of ceiling', 'slowest other kernels (share)'];
  const percent = (x: number) => `${(100 * x).toFixed(0)}%`;
  const rows = results
    .filter((r) => r.profile)
    .map((r) => {
      const p = r.profile!;
      const others = p.kernels
        .filter((k) => !CONV_KERNELS.includes(k.name as never))
        .slice(0, 4)
        .map((k) => `${k.name} ${percent(k.share)}`)
        .join(', ');
      const conv = p.convolutions;
      return [r.operator, r.step, conv.gflopPerStep.toFixed(2), conv.ms.toFixed(1), percent(conv.share), conv.gflops.toFixed(1), percent(conv.gflops / ceiling), others];
    });
  return [
    `Per-kernel profile (${o.profileSteps} steps per cell, ${o.clock} clock): convolutions = ${CONV_KERNELS.join(', ')}`,
    formatCeiling(c, o.clock),
    ...alignedRows(header, rows, [0, 1, header.length - 1]),
    '',
  ].join('\n');
}

/** Header, rule and rows: the columns in `textColumns` left-aligned, numbers right-aligned. */
function alignedRows(header: string[], rows: string[][], textColumns: number[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (textColumns.includes(i) ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** One row per operator, one column per step. */
export function formatTable(backend: string, results: PerfResult[], o: Pick<PerfOptions, 'network' | 'batch' | 'steps' | 'clock'>): string {
  const kinds = STEP_KINDS.filter((k) => results.some((r) => r.step === k));
  const operators = [...new Set(results.map((r) => r.operator))];
  const header = ['operator', ...kinds.map((k) => `${k} (img/s)`)];
  const rows = operators.map((op) => [
    op,
    ...kinds.map((k) => {
      const r = results.find((x) => x.operator === op && x.step === k);
      return r ? r.imagesPerSecond.toFixed(0) : '-';
    }),
  ]);
  return [`${o.network}, batch ${o.batch}, ${o.steps} timed steps per cell, ${o.clock} clock; backend ${backend}`, ...alignedRows(header, rows, [0]), ''].join('\n');
}
