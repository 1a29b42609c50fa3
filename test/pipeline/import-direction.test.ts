// The allowed import direction between src/ folders (docs/architecture.md,
// "Import direction"), checked on the source itself: every relative import,
// type-only ones included, of every .ts file under src/.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(process.cwd(), 'src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every relative import of a file, as a path under src/ with `/` separators and a .ts ending. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)].map((m) => m[1]);
  return specs.map((s) => relative(SRC, normalize(join(dirname(file), s))).split(sep).join('/').replace(/\.js$/, '.ts'));
}

const COMPONENT = /^(receivers|processors|exporters|extensions)\/[^/]+\//;
/** `exporters/otlp/queue.ts` → `exporters/otlp`; undefined outside a component. */
const componentOf = (path: string) => COMPONENT.exec(path)?.[0].slice(0, -1);

/** A rule: files matching `from` must not import paths that `forbids` returns a reason for. */
interface Rule {
  from: (path: string) => boolean;
  forbids: (from: string, to: string) => string | undefined;
}

/**
 * A command module: a file of src/cli/ that registers a subcommand (exports a
 * `register…` function). What commands share lives in helper modules beside them
 * (usage.ts, archive-args.ts, progress.ts, start.ts, …), never in a command.
 */
function isCommandModule(path: string): boolean {
  return /^cli\/[^/]+\.ts$/.test(path) && /^export function register\w*\(/m.test(readFileSync(join(SRC, path), 'utf8'));
}

/** Who may import a command module: main.ts, which registers the commands, and a command group registering its own (`keys.ts` → `keys-rotate.ts`). */
function mayImportCommand(from: string, to: string): boolean {
  if (from === 'cli/main.ts') return true;
  const group = from.replace(/\.ts$/, '-');
  return to.startsWith(group);
}

const RULES: Rule[] = [
  {
    // The record model and the refusals are the leaves everything else builds on.
    from: (p) => p === 'pipeline/record.ts' || p === 'pipeline/errors.ts',
    forbids: () => 'the record model and refusals import nothing from src/',
  },
  {
    from: (p) => p.startsWith('util/'),
    forbids: (_f, t) => (t.startsWith('util/') ? undefined : 'src/util is a leaf: it imports only itself'),
  },
  {
    // The codec knows records and refusals, nothing of the pipeline's machinery or of components.
    from: (p) => p.startsWith('otlp/'),
    forbids: (_f, t) =>
      t.startsWith('otlp/') || t.startsWith('util/') || t === 'pipeline/record.ts' || t === 'pipeline/errors.ts'
        ? undefined
        : 'src/otlp imports only src/otlp, src/util, pipeline/record.ts and pipeline/errors.ts',
  },
  {
    // The pipeline knows components only through the interfaces of component.ts.
    from: (p) => p.startsWith('pipeline/'),
    forbids: (_f, t) =>
      COMPONENT.test(t) || /^(cli|fuzz|simulate|security)\//.test(t) || t === 'components.ts'
        ? 'src/pipeline must not import components, the CLI or tools'
        : undefined,
  },
  {
    // Components are independent of one another; the one exception is the otlp
    // exporter's persistent queue, which opens its storage through file_storage.
    from: (p) => componentOf(p) !== undefined,
    forbids: (f, t) => {
      const to = componentOf(t);
      if (/^(cli|fuzz|simulate)\//.test(t) || t === 'components.ts') return 'a component must not import the CLI, tools or the registry';
      if (to === undefined || to === componentOf(f)) return undefined;
      if (componentOf(f) === 'exporters/otlp' && to === 'extensions/file_storage') return undefined;
      return `a component must not import another component (${to})`;
    },
  },
  {
    // Base services (config, security, telemetry except the status page) sit below the components.
    from: (p) => /^(config|security)\//.test(p) || (p.startsWith('telemetry/') && !p.startsWith('telemetry/status/')),
    forbids: (_f, t) => (COMPONENT.test(t) || /^(cli|fuzz|simulate)\//.test(t) || t === 'components.ts' ? 'base services must not import components or tools' : undefined),
  },
  {
    // No command imports another command's module: shared CLI code sits in helper modules.
    from: (p) => p.startsWith('cli/'),
    forbids: (f, t) =>
      isCommandModule(t) && !mayImportCommand(f, t)
        ? `${t} is a command: only main.ts (or its command group) imports it; move what ${f} needs into a shared src/cli/ helper module`
        : undefined,
  },
  {
    // The CLI, the fuzzer and the registry are entry points: nothing below imports them.
    from: (p) => !/^(cli|fuzz)\//.test(p) && p !== 'components.ts',
    forbids: (_f, t) => (/^(cli|fuzz)\//.test(t) || t === 'components.ts' ? 'only entry points (src/cli, src/fuzz) import the CLI, the fuzzer or the registry' : undefined),
  },
];

/** Every forbidden import in src/, as `file → import: reason`. */
function violations(): string[] {
  const out: string[] = [];
  for (const file of tsFiles(SRC)) {
    const from = relative(SRC, file).split(sep).join('/');
    for (const to of importsOf(file)) {
      for (const rule of RULES) {
        if (!rule.from(from)) continue;
        const reason = rule.forbids(from, to);
        if (reason) out.push(`${from} → ${to}: ${reason}`);
      }
    }
  }
  return out;
}

describe('import direction', () => {
  it('finds the imports it checks (the scan is not vacuous)', () => {
    const service = importsOf(join(SRC, 'pipeline', 'service.ts'));
    expect(service).toContain('pipeline/component.ts');
    expect(service).toContain('config/load.ts');
    // A type-only import counts too.
    expect(importsOf(join(SRC, 'pipeline', 'component.ts'))).toContain('telemetry/logger.ts');
  });

  it('tells the CLI command modules from the shared helpers', () => {
    for (const command of ['cli/run.ts', 'cli/verify.ts', 'cli/simulate.ts', 'cli/demo.ts', 'cli/keys.ts', 'cli/keys-shred.ts']) expect(isCommandModule(command), command).toBe(true);
    for (const helper of ['cli/main.ts', 'cli/usage.ts', 'cli/archive-args.ts', 'cli/progress.ts', 'cli/start.ts', 'cli/verify-run.ts', 'cli/simulate-plan.ts'])
      expect(isCommandModule(helper), helper).toBe(false);
    expect(mayImportCommand('cli/main.ts', 'cli/verify.ts')).toBe(true);
    expect(mayImportCommand('cli/keys.ts', 'cli/keys-shred.ts')).toBe(true);
    expect(mayImportCommand('cli/demo.ts', 'cli/verify.ts')).toBe(false);
    expect(mayImportCommand('cli/keys-shred.ts', 'cli/verify.ts')).toBe(false);
  });

  it('keeps the reliability, simulation and anomaly tests and their helpers off bench/ (benchmarks build on them, not the reverse)', () => {
    const ROOT = process.cwd();
    const offenders: string[] = [];
    for (const dir of ['test/reliability', 'test/helpers/harness', 'test/simulate', 'test/processors/anomaly']) {
      for (const file of tsFiles(join(ROOT, dir))) {
        for (const to of importsOf(file)) if (to.startsWith('../bench/')) offenders.push(`${relative(ROOT, file)} → ${to.slice(3)}`);
      }
    }
    expect(importsOf(join(ROOT, 'bench', 'soak', 'main.ts'))).toContain('../test/helpers/harness/crash.ts');
    expect(importsOf(join(ROOT, 'bench', 'alerts.bench.ts'))).toContain('../test/helpers/alert-replay.ts');
    expect(offenders).toEqual([]);
  });

  it('holds across src/', () => {
    expect(violations()).toEqual([]);
  });
});
