import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
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

  it('an unknown command is a usage error (exit 2)', () => {
    const r = vigilSync(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
  });
});
