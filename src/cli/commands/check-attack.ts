// `dcnet check-attack <module>`: the attack contract kit on a plugin's attacks, against the
// kit's small undefended model; a pass/fail table and a non-zero exit on any failure.
import type { Command } from 'commander';
import { getAttack, loadPlugins } from '../../../attacks/index.js';
import { checkAttackContract, type ContractCheck } from '../../../attacks/contract-test.js';
import { BACKEND_OPTION_HELP, startRuntime, UsageError } from '../runtime.js';

interface CheckOptions {
  attack?: string;
  params?: string;
  backend: string;
  json?: boolean;
}

function parseParams(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through to the one-line error
  }
  throw new UsageError(`--params must be a JSON object such as '{"steps": 5}', got ${text}.`);
}

/** attack | check | result | detail, aligned for a terminal. */
export function formatChecks(rows: Array<{ attack: string } & ContractCheck>): string {
  const cells = [['attack', 'check', 'result', 'detail'], ...rows.map((r) => [r.attack, r.name, r.passed ? 'pass' : 'FAIL', r.detail])];
  const widths = [0, 1, 2].map((i) => Math.max(...cells.map((c) => c[i]!.length)));
  return cells.map((c) => c.map((v, i) => (i < 3 ? v.padEnd(widths[i]!) : v)).join('  ')).join('\n');
}

export function registerCheckAttack(program: Command): void {
  program
    .command('check-attack')
    .description("run the attack contract (eps 0 identity, bounds, determinism, no leak, no read-back, strength) on a plugin's attacks")
    .argument('<module>', 'plugin module: a file path or a package name')
    .option('--attack <name>', 'check only this attack of the plugin')
    .option('--params <json>', 'attack parameters for the check, e.g. \'{"steps": 5}\' (default: the declared defaults)')
    .option('--backend <name>', BACKEND_OPTION_HELP, 'auto')
    .option('--json', 'print the checks as JSON')
    .action(async (module: string, opts: CheckOptions) => {
      const params = parseParams(opts.params);
      const [plugin] = await loadPlugins([module]);
      const names = opts.attack ? [opts.attack] : plugin!.attacks;
      for (const name of names) {
        if (!plugin!.attacks.includes(name)) {
          throw new UsageError(`--attack ${name}: plugin ${plugin!.path} has no such attack (it defines ${plugin!.attacks.join(', ')}).`);
        }
      }
      await startRuntime(opts.backend, !!opts.json);
      const rows = names.flatMap((name) => checkAttackContract(getAttack(name), { params }).map((c) => ({ attack: name, ...c })));
      const failed = rows.filter((r) => !r.passed);
      if (opts.json) process.stdout.write(JSON.stringify({ plugin, checks: rows }, null, 2) + '\n');
      else {
        process.stdout.write(`plugin ${plugin!.name} (${plugin!.path}, sha256 ${plugin!.sha256.slice(0, 12)}…)\n`);
        process.stdout.write(formatChecks(rows) + '\n');
        process.stdout.write(failed.length ? `${failed.length} of ${rows.length} checks failed: ${[...new Set(failed.map((f) => `${f.attack}: ${f.name}`))].join('; ')}\n` : `all ${rows.length} checks passed\n`);
      }
      if (failed.length) process.exitCode = 1;
    });
}
