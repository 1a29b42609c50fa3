// `vigil simulate --check` against a running `vigil run` (child processes,
// free ports): passes when every detector runs, and fails naming the missed
// detector when one is switched off in the config.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultDetectors } from '../../src/processors/anomaly/config.js';
import { startVigilProcess, type VigilProcess, vigilSync } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

function configFile(dir: string, detectors?: unknown[]): string {
  const cfg = {
    receivers: { otlp: { protocols: { grpc: { endpoint: '127.0.0.1:0' }, http: { endpoint: '127.0.0.1:0' } } } },
    processors: { audit: {}, anomaly: detectors ? { detectors } : {} },
    exporters: { worm: { directory: join(dir, 'archive'), signing: { key_file: join(dir, 'keys', 'archive.key') } } },
    service: {
      telemetry: { metrics: { address: '127.0.0.1:0' }, logs: { level: 'warn' } },
      pipelines: { logs: { receivers: ['otlp'], processors: ['audit', 'anomaly'], exporters: ['worm'] } },
    },
  };
  const path = join(dir, 'vigil.yaml');
  writeFileSync(path, stringify(cfg));
  return path;
}

function endpoints(banner: string): { grpc: string; http: string; metrics: string } {
  const grpc = /OTLP\/gRPC (\S+)/.exec(banner)?.[1];
  const http = /OTLP\/HTTP (\S+)/.exec(banner)?.[1];
  const metrics = /metrics\s+(\S+)/.exec(banner)?.[1];
  if (!grpc || !http || !metrics) throw new Error(`unexpected banner:\n${banner}`);
  return { grpc, http: http.replace(/\/v1\/logs$/, ''), metrics };
}

let vigil: VigilProcess | undefined;
afterEach(async () => {
  if (vigil && vigil.child.exitCode === null) {
    vigil.child.kill('SIGTERM');
    await vigil.exited;
  }
  vigil = undefined;
});

describe('vigil simulate --check', () => {
  it('passes against a Vigil running the default detectors (OTLP/HTTP)', async () => {
    const dir = tempDir('vigil-sim-');
    vigil = await startVigilProcess(['run', '--config', configFile(dir)]);
    const ep = endpoints(vigil.stdout());
    expect(vigil.stdout()).toMatch(/status\s+http:\/\/127\.0\.0\.1:\d+\//);
    const r = vigilSync(['simulate', '--protocol', 'http', '--endpoint', ep.http, '--quick', '--check', '--metrics', ep.metrics]);
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/pass\s+5xx-spike\s+route_5xx\s+\/api\/orders\s+flagged/);
    expect(r.stdout).toContain('All 10 injected anomalies were flagged with the expected detector.');
  }, 120_000);

  it('fails, naming the detector, when one is switched off in the config (OTLP/gRPC)', async () => {
    const dir = tempDir('vigil-sim-off-');
    const without = defaultDetectors(['/admin*']).filter((d) => d.name !== 'new_country');
    vigil = await startVigilProcess(['run', '--config', configFile(dir, without)]);
    const ep = endpoints(vigil.stdout());
    const r = vigilSync(['simulate', '--endpoint', ep.grpc, '--scenario', 'new-country,brute-force', '--duration', '4d', '--check', '--metrics', ep.metrics]);
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(1);
    expect(r.stdout).toMatch(/FAIL\s+new-country\s+new_country/);
    expect(r.stdout).toMatch(/pass\s+brute-force\s+login_failures/);
    expect(r.stdout).toContain('1 of 2 injected anomalies were missed: new-country (new_country)');
  }, 120_000);

  it('says how to fix a check against a Vigil that is not there', () => {
    const r = vigilSync(['simulate', '--check', '--metrics', 'http://127.0.0.1:9/metrics', '--duration', '4d']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--check needs Vigil's metrics, but http:\/\/127\.0\.0\.1:9\/metrics did not answer .*start Vigil, or pass --metrics/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace without --debug
  });

  it('refuses a history too short for the detectors, and unknown scenarios, with the fix', () => {
    const short = vigilSync(['simulate', '--duration', '2d']);
    expect(short.status).toBe(2);
    expect(short.stderr).toContain('--duration 2d: the detectors need at least 4d of history');
    const both = vigilSync(['simulate', '--quick', '--duration', '9d']);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain('--quick and --duration both set the history: give one');
    const unknown = vigilSync(['simulate', '--scenario', 'ddos']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown scenario "ddos": use all or one or more of');
  });

  it('refuses an unknown organisation, and knobs --duration/--users put out of range, naming the range', () => {
    const unknown = vigilSync(['simulate', '--org', 'acme']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('--org: unknown organisation "acme": use one of agency, retailer, bank, saas, enterprise');
    const small = vigilSync(['simulate', '--org', 'retailer', '--users', '10']);
    expect(small.status).toBe(2);
    expect(small.stderr).toContain('retailer: accounts 10 is outside 50..5000');
  });
});
