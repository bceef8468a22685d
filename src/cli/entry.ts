// The entry of every script with a command line (perf, perf:compare, perf:side-by-side,
// bench:attacks, scripts/): a user mistake prints one line and exits 2, anything else is a bug
// and keeps its stack.
import { CommanderError } from 'commander';
import { UserError } from '../errors.js';

export async function runEntry(prefix: string, main: () => unknown): Promise<void> {
  try {
    await main();
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has already printed its message (or the help).
      process.exitCode = err.exitCode;
      return;
    }
    if (!(err instanceof UserError)) throw err;
    process.stderr.write(`${prefix}: ${err.message}\n`);
    process.exitCode = 2;
  }
}
