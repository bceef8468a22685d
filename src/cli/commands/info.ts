// `dcnet info`: versions, backends and the operator catalogue.
import type { Command } from 'commander';
import { tf } from '../../tf.js';
import { VERSION } from '../../version.js';
import { probeBackends } from '../../backend.js';
import { ANGULARS, BOUNDED_MAGNITUDES, UNBOUNDED_MAGNITUDES, WEIGHTINGS } from '../../ops/options.js';
import { attackOrigin, BUILT_IN, listAttacks, loadPlugins } from '../../../attacks/index.js';
import { BACKEND_OPTION_HELP, startRuntime } from '../runtime.js';
import { pluginOption } from '../plugins.js';

export function registerInfo(program: Command): void {
  pluginOption(
    program
      .command('info')
      .description('toolkit version, Node version, available and chosen backend, operators, attacks (with plugins)')
      .option('--backend <name>', BACKEND_OPTION_HELP, 'auto')
      .option('--json', 'print one JSON object'),
  ).action(async (opts: { backend: string; json?: boolean; plugin: string[] }) => {
      const plugins = await loadPlugins(opts.plugin);
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
        attacks: listAttacks().map((a) => ({
          name: a.name,
          needs: a.needs,
          description: a.description,
          params: Object.keys(a.params),
          origin: attackOrigin(a.name),
        })),
        plugins,
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
        `attacks (Linf):`,
        ...info.attacks.map(
          (a) => `  ${a.name.padEnd(12)} ${a.needs === 'gradients' ? 'white-box ' : 'black-box '} ${a.origin === BUILT_IN ? '' : `[plugin ${a.origin}] `}${a.description}`,
        ),
        ...plugins.map((p) => `plugin ${p.name}: ${p.attacks.join(', ')} (${p.path}, sha256 ${p.sha256})`),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
