// Entry of `npm run perf` (see program.ts); user mistakes print one line, exit code 2.
import { runEntry } from '../cli/entry.js';
import { buildPerfProgram, runPerf, type PerfOptions } from './program.js';

await runEntry('perf', async () => {
  const program = buildPerfProgram().exitOverride();
  program.parse(process.argv);
  await runPerf(program.opts<PerfOptions>());
});
