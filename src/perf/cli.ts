// Entry of `npm run perf` (see program.ts); user mistakes print one line, exit code 2.
import { buildPerfProgram, runPerf, type PerfOptions } from './program.js';

const USER_ERRORS = new Set(['UsageError', 'OptionError', 'BackendError']);

async function main(): Promise<void> {
  const program = buildPerfProgram().exitOverride();
  try {
    program.parse(process.argv);
    await runPerf(program.opts<PerfOptions>());
  } catch (err) {
    if (err instanceof Error && USER_ERRORS.has(err.name)) {
      process.stderr.write(`perf: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    if (err instanceof Error && err.name === 'CommanderError') {
      process.exitCode = (err as { exitCode?: number }).exitCode ?? 2;
      return;
    }
    throw err;
  }
}

await main();
