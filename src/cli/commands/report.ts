// `dcnet report`: merges the shards' results of a run and (re)writes its report.
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { writeReport } from '../../bench/report.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description("merge a run's result files (all shards) and write report.md, results.csv, plots and per-model JSON")
    .option('--run <name|dir>', 'run folder, or its name under reports/', 'quick')
    .action((opts: { run: string }) => {
      const runDir = opts.run.includes('/') ? resolve(opts.run) : resolve(join('reports', opts.run));
      const summary = writeReport(runDir);
      process.stdout.write(`report: ${join(runDir, 'report.md')} (${summary.models} models, ${summary.files.length} files)\n`);
      if (summary.missing.length) {
        process.stdout.write(`missing ${summary.missing.length} cells (run the remaining shards or resume): ${summary.missing.join(', ')}\n`);
      }
    });
}
