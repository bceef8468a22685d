// `dcnet info`: versions, backends and the operator catalogue.
import type { Command } from 'commander';
import { tf } from '../../tf.js';
import { VERSION } from '../../version.js';
import { probeBackends } from '../../backend.js';
import { ANGULARS, BOUNDED_MAGNITUDES, UNBOUNDED_MAGNITUDES, WEIGHTINGS } from '../../ops/options.js';
import { BACKEND_OPTION_HELP, startRuntime } from '../runtime.js';

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('toolkit version, Node version, available and chosen backend, operators')
    .option('--backend <name>', BACKEND_OPTION_HELP, 'auto')
    .option('--json', 'print one JSON object')
    .action(async (opts: { backend: string; json?: boolean }) => {
      const available = await probeBackends();
      const chosen = await startRuntime(opts.backend, true);
      const info = {
        toolkit: VERSION,
        node: process.version,
        tfjs: tf.version.tfjs,
        backends: available,
        backend: chosen.name,
        backendDescription: chosen.description,
        operators: {
          baseline: ['standard'],
          bounded: [...BOUNDED_MAGNITUDES],
          unbounded: [...UNBOUNDED_MAGNITUDES],
          angular: [...ANGULARS],
          weighting: [...WEIGHTINGS],
        },
      };
      if (opts.json) {
        process.stdout.write(JSON.stringify(info, null, 2) + '\n');
        return;
      }
      const lines = [
        `dcnet-robustness ${info.toolkit}`,
        `node ${info.node}, TF.js ${info.tfjs}`,
        `backends available: ${Object.entries(available)
          .map(([k, v]) => `${k} ${v ? 'yes' : 'no'}`)
          .join(', ')}`,
        `backend: ${chosen.description}`,
        `operators: standard (baseline); magnitude x angular, ids <magnitude>-<angular>`,
        `  bounded magnitudes:   ${info.operators.bounded.join(', ')}`,
        `  unbounded magnitudes: ${info.operators.unbounded.join(', ')}`,
        `  angular:              ${info.operators.angular.join(', ')}`,
        `  weighting:            ${info.operators.weighting.join(', ')}`,
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
