// Entry of `npm run perf` (see program.ts); user mistakes print one line, exit code 2.
import { CommanderError } from 'commander';
import { UserError } from '../errors.js';
import { buildPerfProgram, runPerf, type PerfOptions } from './program.js';

async function main(): Promise<void> {
  const program = buildPerfProgram().exitOverride();
  try {
    program.parse(process.argv);
    await runPerf(program.opts<PerfOptions>());
  } catch (err) {
    if (err instanceof UserError) {
      process.stderr.write(`perf: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    throw err;
  }
}

await main();
