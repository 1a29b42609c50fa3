// The `vigil` command line. Each subcommand lives in its own module and
// registers itself on the program; errors print one clear line (a stack trace
// only with --debug) and map to exit codes: 0 ok, 1 failure found, 2 usage or
// config error.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Help, type Option } from 'commander';
import { packageRoot } from '../util/paths.js';
import { ConfigError } from '../config/errors.js';
import { UsageError } from './usage.js';

type Register = (program: Command) => void;

/**
 * The command modules, in the order the help lists their commands, each
 * imported only when registered: a command's module pulls in what it runs (the
 * pipeline, the archive, gRPC…), and compiling every command's modules made up
 * much of a one-line `vigil replay`'s start-up. `names` are the commands a
 * module registers (test/cli/lazy-commands.test.ts checks them).
 */
export const COMMAND_MODULES: readonly { names: readonly string[]; load: () => Promise<Register> }[] = [
  { names: ['run'], load: async () => (await import('./run.js')).registerRun },
  { names: ['validate'], load: async () => (await import('./validate.js')).registerValidate },
  { names: ['verify'], load: async () => (await import('./verify.js')).registerVerify },
  { names: ['prove', 'verify-proof'], load: async () => (await import('./prove.js')).registerProve },
  { names: ['query'], load: async () => (await import('./query.js')).registerQuery },
  { names: ['export'], load: async () => (await import('./export.js')).registerExport },
  { names: ['check'], load: async () => (await import('./check.js')).registerCheck },
  { names: ['replay'], load: async () => (await import('./replay.js')).registerReplay },
  { names: ['simulate'], load: async () => (await import('./simulate.js')).registerSimulate },
  { names: ['demo'], load: async () => (await import('./demo.js')).registerDemo },
  { names: ['keys'], load: async () => (await import('./keys.js')).registerKeys },
];

/**
 * The command argv names, when it names one: the first argument that is not an
 * option (the program's own options take no value). Anything else (`vigil
 * --help`, `vigil help …`, a misspelt command) needs every command registered.
 */
export function commandNamed(argv: readonly string[]): string | undefined {
  const name = argv.slice(2).find((a) => !a.startsWith('-'));
  return COMMAND_MODULES.some((m) => m.names.includes(name!)) ? name : undefined;
}

/** The program with every command registered, or only `only` (the help and errors of one command need no other). */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('vigil')
    .description('OpenTelemetry Collector-compatible sidecar: audit-ready access logs, real-time anomaly flags, a tamper-evident archive.')
    .version(`vigil version ${packageVersion()}`, '-v, --version', 'print the version and exit')
    .option('--debug', 'print stack traces on errors')
    .showHelpAfterError('(run with --help for usage)')
    // Repeatable options start empty: "(default: [])" says nothing to a person.
    .configureHelp({
      optionDescription(this: Help, option: Option): string {
        if (Array.isArray(option.defaultValue) && option.defaultValue.length === 0) return option.description;
        return Help.prototype.optionDescription.call(this, option);
      },
    })
    .exitOverride();
  for (const m of COMMAND_MODULES) if (only === undefined || m.names.includes(only)) (await m.load())(program);
  program.addHelpText(
    'after',
    `
Examples (from a checkout or after \`npm install vigil\`, run it as \`npx vigil\`):
  npx vigil demo                        see it work in under a minute (no config, no network)
  npx vigil run                         run on the embedded default (OTLP on 127.0.0.1:4317/4318, archive in ./vigil-data)
  npx vigil run --config vigil.yaml     run the pipelines a config file describes
  npx vigil validate --config vigil.yaml  check a config without starting (exit 0 valid, 1 invalid)
  npx vigil replay access.log           enrich past logs offline (same processors as live), OTLP JSON lines out
  npx vigil simulate --check            smoke-test a running Vigil: inject anomalies, check each was flagged
  npx vigil run --help                  options of one command

Exit status: 0 success, 1 a failure (a check failed, a runtime error, a drain
that could not finish), 2 an invalid config or a usage error.`,
  );
  return program;
}

/** The version in package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

export async function main(argv: string[]): Promise<void> {
  const program = await buildProgram(commandNamed(argv));
  // `vigil` alone: the help, as a successful answer (not a usage error).
  if (argv.length <= 2) {
    program.outputHelp();
    return;
  }
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
