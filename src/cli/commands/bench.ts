// `dcnet bench`: the whole robustness study (train every model, attack it, report).
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { writeReport } from '../../bench/report.js';
import { resolveShard } from '../../bench/cells.js';
import { BUILTIN_PROFILES, loadProfile } from '../../bench/profile.js';
import { runBench } from '../../bench/runner.js';
import { formatDuration } from '../../duration.js';
import { BACKEND_OPTION_HELP, startRuntime, UsageError } from '../runtime.js';
import { parsePositiveInteger } from '../options.js';

interface BenchOptions {
  profile: string;
  printProfile?: string | boolean;
  run?: string;
  out?: string;
  zoo: string;
  jobs: number;
  shard?: string;
  shards?: number;
  backend: string;
  data?: string;
  progress: boolean;
  report: boolean;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('run the robustness benchmark: train every model of a profile, attack it, write the report')
    .option('--profile <name|file>', `built-in profile (${Object.keys(BUILTIN_PROFILES).join(', ')}) or a JSON file`, 'quick')
    .option('--print-profile [name]', 'print a profile as JSON (a starting point for your own) and exit')
    .option('--run <name>', 'name of the run folder under reports/ (default: the profile name)')
    .option('--out <dir>', 'run folder (overrides --run)')
    .option('--zoo <dir>', 'model zoo folder (trained models are reused from it)', process.env.DCNET_ZOO ?? 'zoo')
    .option('--jobs <n>', 'cells run in parallel, one worker thread each', parsePositiveInteger('--jobs'), cpus().length)
    .option('--shard <i/n>', 'run shard i of n (0-based); default from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID')
    .option('--shards <n>', 'shard count when the index comes from the environment', parsePositiveInteger('--shards'))
    .option('--data <dir>', 'dataset folder (for datasets that are not embedded)')
    .option('--backend <name>', BACKEND_OPTION_HELP, 'auto')
    .option('--no-progress', 'no progress display')
    .option('--no-report', 'do not write the report at the end (shards: run `dcnet report` after all)')
    .action(async (opts: BenchOptions) => {
      if (opts.printProfile !== undefined) {
        const name = typeof opts.printProfile === 'string' ? opts.printProfile : opts.profile;
        process.stdout.write(JSON.stringify(loadProfile(name), null, 2) + '\n');
        return;
      }
      const profile = loadProfile(opts.profile);
      if (opts.data) profile.data = resolve(opts.data);
      const jobs = opts.jobs;
      const shard = resolveShard(opts.shard, process.env, opts.shards);
      const runDir = resolve(opts.out ?? join('reports', opts.run ?? profile.name));
      const info = await startRuntime(opts.backend);
      process.stderr.write(
        `bench: profile ${profile.name}, ${jobs} worker(s), shard ${shard.index}/${shard.count}, run folder ${runDir}, zoo ${resolve(opts.zoo)}\n`,
      );
      const outcome = await runBench({ profile, runDir, zooDir: resolve(opts.zoo), jobs, shard, backend: info.name, progress: opts.progress });
      process.stderr.write(
        `bench: ${outcome.ran} cells run, ${outcome.alreadyDone} already done, ${outcome.failed.length} failed, ` +
          `${outcome.skipped.length} skipped, in ${formatDuration(outcome.wallSeconds)}\n`,
      );
      for (const f of outcome.failed) process.stderr.write(`  failed ${f.cellId}: ${f.message}\n`);
      for (const s of outcome.skipped) process.stderr.write(`  skipped ${s.cellId}: ${s.because} did not finish\n`);
      if (opts.report && shard.count === 1) {
        const summary = writeReport(runDir);
        process.stdout.write(`report: ${join(runDir, 'report.md')} (${summary.models} models${summary.missing.length ? `, ${summary.missing.length} cells missing` : ''})\n`);
      } else if (shard.count > 1) {
        process.stdout.write(`shard ${shard.index}/${shard.count} done; when every shard is done: dcnet report --run ${runDir}\n`);
      }
      if (outcome.failed.length) process.exitCode = 1;
    });
}
