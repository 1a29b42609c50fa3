import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { vigilSync } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

describe('vigil run: config errors exit 2 and name the key', () => {
  const dir = tempDir();
  const cases: [string, string, RegExp][] = [
    ['unknown component', 'exporters: { kafka: {} }\nservice: { pipelines: { logs: { exporters: [kafka] } } }\n', /exporters\.kafka: unknown exporter type "kafka"/],
    ['bad endpoint', 'exporters: { file: { path: x } }\nservice:\n  telemetry: { metrics: { address: "nowhere" } }\n  pipelines: { logs: { exporters: [file] } }\n', /service\.telemetry\.metrics\.address: expected host:port/],
    ['missing env var', 'exporters: { file: { path: "${env:VIGIL_TEST_UNSET_DIR}/a" } }\nservice: { pipelines: { logs: { exporters: [file] } } }\n', /exporters\.file\.path: environment variable VIGIL_TEST_UNSET_DIR is not set/],
    ['undefined exporter in a pipeline', 'exporters: { file: { path: x } }\nservice: { pipelines: { logs: { exporters: [file, otlp_grpc] } } }\n', /service\.pipelines\.logs\.exporters\.1: references exporter "otlp_grpc" which is not defined/],
  ];
  for (const [name, yaml, expected] of cases) {
    it(name, () => {
      const file = join(dir, `${name.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(file, yaml);
      const r = vigilSync(['run', '--config', file], { env: { VIGIL_TEST_UNSET_DIR: '' } });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(expected);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace without --debug
    });
  }

  it('--help explains the commands', () => {
    const top = vigilSync(['--help']);
    expect(top.status).toBe(0);
    expect(top.stdout).toMatch(/run\b.*sidecar/);
    const run = vigilSync(['run', '--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/--config <file>/);
    expect(run.stdout).toMatch(/embedded default/);
  });

  it('vigil with no arguments prints the help and exits 0; --version prints the package version', () => {
    const none = vigilSync([]);
    expect(none.status).toBe(0);
    expect(none.stdout).toMatch(/Usage: vigil/);
    expect(none.stdout).toMatch(/npx vigil demo/);
    const version = vigilSync(['--version']);
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe(`vigil version ${JSON.parse(readFileSync('package.json', 'utf8')).version}`);
  });

  it('no help shows a library artefact like "(default: [])"', () => {
    // Every command the top-level help lists (so a new one is covered without editing this test).
    const top = vigilSync(['--help']).stdout;
    const commands = [...top.slice(top.indexOf('Commands:')).matchAll(/^ {2}([a-z][a-z-]*) /gm)].map((m) => m[1]).filter((c) => c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['run', 'validate', 'verify', 'check', 'replay', 'simulate', 'demo']));
    for (const cmd of commands) {
      const r = vigilSync([cmd, '--help']);
      expect(r.status, cmd).toBe(0);
      expect(r.stdout, cmd).not.toMatch(/\(default: \[\]\)/);
    }
  });

  it('an unknown command is a usage error (exit 2)', () => {
    const r = vigilSync(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
  });
});

describe('vigil validate: exit 0 valid, 1 invalid, like otelcol validate', () => {
  const dir = tempDir();
  const base = join(dir, 'base.yaml');
  writeFileSync(base, 'exporters: { file: { path: /tmp/v.jsonl } }\nservice: { pipelines: { logs: { exporters: [file] } } }\n');

  it('a valid config, with its warnings on stderr', () => {
    const extra = join(dir, 'collector.yaml');
    writeFileSync(extra, 'processors: { batch: {} }\nservice: { pipelines: { logs: { processors: [batch] } } }\n');
    const r = vigilSync(['validate', '--config', base, '--config', extra]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/valid/);
    expect(r.stderr).toMatch(/warning: processors\.batch: .*sending_queue\.batch/);
  });

  it('an invalid one names the key and the closest known key', () => {
    const r = vigilSync(['validate', '--config', base, '--set', 'exporters::file::rotaton::max_backups=2']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/exporters\.file: unknown key\(s\) "rotaton" \(did you mean "rotation"\?\)/);
  });

  it('a later --config and --set override an earlier file (run reads them the same way)', () => {
    const r = vigilSync(['validate', '--config', base, '--set', 'service::pipelines::logs::exporters=[nope]']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/references exporter "nope" which is not defined/);
    const run = vigilSync(['run', '--config', base, '--set', 'exporters::file::path=${VIGIL_TEST_UNSET_DIR}/x']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/VIGIL_TEST_UNSET_DIR is not set/);
  });
});
