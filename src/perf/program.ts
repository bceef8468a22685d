// The perf program: images per second of training, forward and input-gradient steps of the
// reference network (small-cnn) for the standard and decoupled operators. `--json` prints
// one JSON object instead of the table. Entry point: cli.ts.
import { Command, Option } from 'commander';
import { ARCHITECTURES } from '../../models/architectures.js';
import { BACKEND_OPTION_HELP, startRuntime, UsageError } from '../cli/runtime.js';
import { parseInteger, parseList, parsePositiveInteger } from '../cli/options.js';
import { parseOperatorId } from '../ops/options.js';
import { CLOCKS, measureCell, type Clock, type PerfResult, type PerfSettings } from './measure.js';
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
  inputShape: [number, number, number];
  seed: number;
  clock: Clock;
}

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
    .option('--input-shape <h,w,c>', 'image shape', shape, [28, 28, 1] as [number, number, number])
    .option('--seed <n>', 'seed of weights and data', parseInteger('--seed'), 1)
    .addOption(
      new Option('--clock <clock>', 'wall: elapsed time; cpu: process CPU time (steadier on a shared machine)')
        .choices([...CLOCKS])
        .default('wall'),
    );
}

/** Runs every cell; the report goes to `print` (stdout), progress to stderr. */
export async function runPerf(
  o: PerfOptions,
  print: (text: string) => void = (text) => process.stdout.write(text),
): Promise<PerfResult[]> {
  // Unknown operator ids fail before any timing.
  for (const id of o.operators) {
    try {
      parseOperatorId(id);
    } catch (err) {
      throw new UsageError(`Invalid operator '${id}' in --operators: ${(err as Error).message}`);
    }
  }
  const info = await startRuntime(o.backend, o.json);
  const settings: PerfSettings = {
    inputShape: o.inputShape,
    classes: 10,
    steps: o.steps,
    warmup: o.warmup,
    seed: o.seed,
    clock: o.clock,
  };
  const results: PerfResult[] = [];
  for (const operator of o.operators) {
    for (const step of o.only) {
      const r = measureCell({ network: o.network, operator, step, batch: o.batch }, settings);
      results.push(r);
      if (!o.json) process.stderr.write(`  ${operator} ${step}: ${r.imagesPerSecond.toFixed(0)} images/s\n`);
    }
  }
  if (o.json) {
    print(`${JSON.stringify({ backend: info.name, results })}\n`);
  } else {
    print(formatTable(info.description, results, o));
  }
  return results;
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
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    `${o.network}, batch ${o.batch}, ${o.steps} timed steps per cell, ${o.clock} clock; backend ${backend}`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
  ].join('\n');
}
