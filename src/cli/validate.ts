// `vigil validate --config FILE…`: checks a config without starting anything,
// as `otelcol validate` does. Exit 0 valid (warnings are printed), 1 invalid.
import type { Command } from 'commander';
import { defaultRegistry } from '../components.js';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { addConfigOptions, type ConfigCliOptions, configSources } from './config-options.js';

export function registerValidate(program: Command): void {
  const cmd = program
    .command('validate')
    .description('check a config (every key, every reference) without starting anything; exit 0 valid, 1 invalid');
  addConfigOptions(cmd, 'the config to check')
    .addHelpText(
      'after',
      `
Unlike \`vigil run\`, which exits 2 on an invalid config, validate exits 1, as
\`otelcol validate\` does, so scripts written for the Collector keep working.

Examples:
  npx vigil validate --config vigil.yaml
  npx vigil validate --config base.yaml --config prod.yaml --set exporters::worm::directory=/data`,
    )
    .action((opts: ConfigCliOptions) => {
      try {
        const config = loadConfig(configSources(opts), defaultRegistry());
        for (const w of config.warnings) process.stderr.write(`vigil: warning: ${w.path}: ${w.message}\n`);
        process.stdout.write(`${config.source}: valid\n`);
        process.exitCode = 0;
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(`vigil: ${err.message}\n`);
        process.exitCode = 1;
      }
    });
}
