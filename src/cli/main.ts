// The `vigil` command line. Each subcommand lives in its own module and
// registers itself on the program; errors print one clear line (a stack trace
// only with --debug) and map to exit codes: 0 ok, 1 failure found, 2 usage or
// config error.
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/errors.js';
import { registerRun } from './run.js';
import { registerVerify } from './verify.js';
import { registerProve } from './prove.js';
import { registerQuery } from './query.js';
import { registerCheck } from './check.js';
import { registerReplay } from './replay.js';
import { registerSimulate } from './simulate.js';
import { registerDemo } from './demo.js';
import { registerKeys } from './keys.js';

export class UsageError extends Error {}

export function buildProgram(): Command {
  const program = new Command('vigil')
    .description('OpenTelemetry Collector-compatible sidecar: audit-ready access logs, real-time anomaly flags, a tamper-evident archive.')
    .option('--debug', 'print stack traces on errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerRun(program);
  registerVerify(program);
  registerProve(program);
  registerQuery(program);
  registerCheck(program);
  registerReplay(program);
  registerSimulate(program);
  registerDemo(program);
  registerKeys(program);
  program.addHelpText(
    'after',
    `
Examples:
  vigil demo                        see it work in under a minute (no config, no network)
  vigil run                         run on the embedded default (OTLP on 127.0.0.1:4317/4318, archive in ./vigil-data)
  vigil run --config vigil.yaml     run the pipelines a config file describes
  vigil replay access.log           enrich past logs offline (same processors as live), OTLP JSON lines out
  vigil simulate --check            smoke-test a running Vigil: inject anomalies, check each was flagged
  vigil run --help                  options of one command`,
  );
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err, argv.includes('--debug'));
  }
}

/** Prints an error for a person and returns the exit code. */
export function reportError(err: unknown, debug: boolean): number {
  if (err instanceof CommanderError) {
    // commander already printed help or the usage error.
    return err.exitCode === 0 ? 0 : 2;
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`vigil: ${err.message}\n`);
    return 2;
  }
  if (err instanceof UsageError) {
    process.stderr.write(`vigil: ${err.message}\n`);
    return 2;
  }
  const e = err as Error;
  process.stderr.write(`vigil: ${e?.message ?? String(err)}\n`);
  if (debug && e?.stack) process.stderr.write(`${e.stack}\n`);
  return 1;
}
