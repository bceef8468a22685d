// `dcnet bench`: the whole robustness study (train every model, attack it, report).
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { writeReport } from '../../bench/report.js';
import { planCells, resolveShard, shardCells } from '../../bench/cells.js';
import { BUILTIN_PROFILES, loadProfile, profilePlugins } from '../../bench/profile.js';
import { runBench } from '../../bench/runner.js';
import { calibrator } from '../../bench/calibration.js';
import { dryRun } from '../../bench/dry-run.js';
import { checkProfileData, dryRunSizes } from '../../bench/profile-data.js';
import { RUN_NAME } from '../../bench/profile-schema.js';
import { publishedDir, publishedZooDir, resolveModelSources } from '../../bench/published.js';
import { formatDuration } from '../../progress.js';
import { BACKEND_OPTION_HELP, PartialFailure, startRuntime, UsageError } from '../runtime.js';
import { parsePositiveInteger } from '../options.js';
import { loadPlugins } from '../../../attacks/index.js';
import { pluginOption } from '../plugins.js';

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
  plugin: string[];
  set: string[];
  patch?: string;
  dryRun?: boolean;
  retrain?: boolean;
  train: boolean;
  publish?: boolean;
}

export function registerBench(program: Command): void {
  pluginOption(program
    .command('bench'))
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
    .option('--set <key=value>', 'override one profile field by its dotted path, e.g. train.epochs=1 (repeatable; JSON values)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--patch <json|file>', 'JSON merge patch applied to the profile before --set (inline {...} or a file)')
    .option('--dry-run', 'print the cells, models and attacks and an estimate of the cost; run nothing')
    .option('--retrain', "ignore the profile's committed models (results/<profile>/zoo): train into --zoo (models already there are reused)")
    .option('--no-train', 'train nothing: fail, naming them, if models are neither committed nor in --zoo')
    .option('--publish', 'train every model into results/<profile>/zoo and write the run there: the published results to commit')
    .option('--no-progress', 'no progress display')
    .option('--no-report', 'do not write the report at the end (shards: run `dcnet report` after all)')
    .action(async (opts: BenchOptions, cmd: Command) => {
      const overrides = { set: opts.set, ...(opts.patch !== undefined ? { patch: opts.patch } : {}) };
      const name = typeof opts.printProfile === 'string' ? opts.printProfile : opts.profile;
      // Plugins before the profile: its attack names are validated against the registry.
      // --plugin paths start from the current folder, the profile's own from its file's folder.
      const fromProfile = profilePlugins(name, overrides);
      const plugins = [...(await loadPlugins(opts.plugin)), ...(await loadPlugins(fromProfile.specs, fromProfile.base))].filter(
        (p, i, all) => all.findIndex((q) => q.path === p.path) === i,
      );
      if (opts.printProfile !== undefined) {
        process.stdout.write(JSON.stringify(loadProfile(name, overrides), null, 2) + '\n');
        return;
      }
      if (opts.run !== undefined && !RUN_NAME.test(opts.run)) {
        throw new UsageError(`Invalid --run '${opts.run}': a plain folder name (letters, digits, '.', '_', '-'); use --out for a path.`);
      }
      if (opts.retrain && !opts.train) throw new UsageError('--retrain and --no-train contradict each other: choose one.');
      const profile = loadProfile(opts.profile, overrides);
      if (opts.data) profile.data = resolve(opts.data);
      const jobs = opts.jobs;
      const shard = resolveShard(opts.shard, process.env, opts.shards);
      if (opts.publish) {
        const given = ['out', 'run', 'zoo', 'shard', 'retrain'].filter((k) => cmd.getOptionValueSource(k) === 'cli');
        if (!opts.train) given.push('no-train');
        // A published run is the profile as named: with changes, its models would not be the ones the profile trains.
        if (opts.set.length || opts.patch !== undefined) given.push(...(opts.set.length ? ['set'] : []), ...(opts.patch !== undefined ? ['patch'] : []));
        if (given.length) {
          throw new UsageError(
            `--publish runs the profile as it is into results/${profile.name}/ (run folder and zoo): drop --${given.join(', --')}` +
              (given.includes('set') || given.includes('patch') ? ' (to publish a changed profile, save it with --print-profile, give it its own name and publish that file).' : '.'),
          );
        }
        opts.out = publishedDir(profile.name);
        opts.zoo = publishedZooDir(profile.name);
      }
      const models = opts.publish || opts.retrain ? 'retrain' : opts.train ? 'default' : 'no-train';
      const runDir = resolve(opts.out ?? join('reports', opts.run ?? profile.name));
      if (opts.dryRun) {
        const { note, ...sizes } = dryRunSizes(profile);
        const info = await startRuntime(opts.backend);
        const trainIds = shardCells(planCells(profile), shard).flatMap((c) => (c.kind === 'train' ? [c.model.id] : []));
        const { committed } = resolveModelSources(profile, trainIds, { zooDir: resolve(opts.zoo), mode: models });
        const { text } = dryRun({ profile, shard, jobs, backend: info.name, sizes, calibrator: calibrator(), log: (line) => process.stderr.write(`${line}\n`), committed: Object.keys(committed) });
        process.stdout.write(text + (note ? `(${note})\n` : ''));
        return;
      }
      // The dataset is read and the profile checked against it before any work.
      checkProfileData(profile);
      const info = await startRuntime(opts.backend);
      process.stderr.write(
        `bench: profile ${profile.name}, ${jobs} worker(s), shard ${shard.index}/${shard.count}, run folder ${runDir}, zoo ${resolve(opts.zoo)}\n`,
      );
      for (const p of plugins) process.stderr.write(`bench: plugin ${p.name}: ${p.attacks.join(', ')} (sha256 ${p.sha256.slice(0, 12)}…)\n`);
      const outcome = await runBench({
        profile, runDir, zooDir: resolve(opts.zoo), jobs, shard, backend: info.name, progress: opts.progress, plugins, models, recordInterruption: true,
      });
      process.stderr.write(
        `bench: ${outcome.ran} cells run, ${outcome.alreadyDone} already done, ${outcome.failed.length} failed, ` +
          `${outcome.skipped.length} skipped, in ${formatDuration(outcome.wallSeconds)}\n`,
      );
      for (const t of outcome.torn) process.stderr.write(`bench: ${t}\n`);
      for (const f of outcome.failed) process.stderr.write(`  failed ${f.cellId}: ${f.message}\n`);
      for (const s of outcome.skipped) process.stderr.write(`  skipped ${s.cellId}: ${s.because} did not finish\n`);
      if (opts.report && shard.count === 1) {
        const summary = writeReport(runDir);
        process.stdout.write(`report: ${join(runDir, 'report.md')} (${summary.models} models${summary.missing.length ? `, ${summary.missing.length} cells missing` : ''})\n`);
      } else if (shard.count > 1) {
        process.stdout.write(`shard ${shard.index}/${shard.count} done; when every shard is done: dcnet report --run ${runDir}\n`);
      }
      if (opts.publish && !outcome.failed.length) {
        process.stdout.write(`published: ${runDir} (commit it with its zoo/, then npm run readme updates the README's tables)\n`);
      }
      if (outcome.failed.length) {
        const ids = outcome.failed.map((f) => f.cellId).join(', ');
        throw new PartialFailure(`${outcome.failed.length} cell(s) failed: ${ids}. Fix the cause and run the same command again to resume.`);
      }
    });
}
