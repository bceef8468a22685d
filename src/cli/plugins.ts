// The `--plugin <module>` option shared by attack, bench, info and check-attack.
import type { Command } from 'commander';

export const PLUGIN_OPTION_HELP = 'load attacks from a plugin module (file path or package name; repeatable)';

const collect = (value: string, previous: string[]) => [...previous, value];

/** Adds the repeatable --plugin option; the values arrive as `opts.plugin: string[]`. */
export function pluginOption(command: Command): Command {
  return command.option('--plugin <module>', PLUGIN_OPTION_HELP, collect, []);
}
