// The `dcnet` command line. Each command lives in its own module under commands/.
import { Command, CommanderError } from 'commander';
import { UserError } from '../errors.js';
import { VERSION } from '../version.js';
import { registerInfo } from './commands/info.js';
import { registerTrain } from './commands/train.js';
import { registerZoo } from './commands/zoo.js';
import { registerAttack } from './commands/attack.js';
import { registerBench } from './commands/bench.js';
import { registerReport } from './commands/report.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('dcnet')
    .description('Adversarial robustness of standard and decoupled (DCNet) CNNs on TF.js')
    .version(VERSION)
    .showHelpAfterError();
  registerInfo(program);
  registerTrain(program);
  registerZoo(program);
  registerAttack(program);
  registerBench(program);
  registerReport(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  try {
    await buildProgram().exitOverride().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    // Errors a user can fix are printed as one line; anything else keeps its stack.
    if (err instanceof UserError) {
      process.stderr.write(`dcnet: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
