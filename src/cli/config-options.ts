// The config options every command that reads a config shares, as `otelcol`
// spells them: `--config` repeatable (merged in order) and `--set key::sub=value`.
import type { Command } from 'commander';
import type { ConfigSources } from '../config/sources.js';

export interface ConfigCliOptions {
  config?: string | string[];
  set?: string[];
}

function append(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function addConfigOptions(cmd: Command, what: string): Command {
  return cmd
    .option('-c, --config <file>', `${what} (default: the embedded default); repeat to merge several files, later ones win`, append)
    .option('--set <key=value>', 'override one setting after the files, nested keys joined by :: (e.g. --set exporters::worm::directory=/data); repeatable', append);
}

export function configSources(opts: ConfigCliOptions): ConfigSources {
  const configs = opts.config === undefined ? [] : typeof opts.config === 'string' ? [opts.config] : opts.config;
  return { configs, sets: opts.set ?? [] };
}
