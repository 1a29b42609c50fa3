import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultRegistry } from '../../src/components.js';
import { loadConfig, validateConfig } from '../../src/config/load.js';
import { parseDuration, parseSize } from '../../src/config/units.js';
import { issuesOf } from '../helpers/config.js';
import { tempDir } from '../helpers/tmp.js';

const registry = defaultRegistry();


const minimal = {
  exporters: { file: { path: '/tmp/x.jsonl' } },
  service: { pipelines: { logs: { exporters: ['file'] } } },
};

describe('config loading', () => {
  it('loads the embedded default', () => {
    const cfg = loadConfig(undefined, registry);
    expect(cfg.source).toBe('embedded default');
    expect(cfg.service.pipelines[0].id).toBe('logs');
  });

  it('loads the container image config: nothing on 0.0.0.0 without the bearer token', () => {
    const path = join(process.cwd(), 'config', 'vigil.container.yaml');
    const cfg = loadConfig(path, registry, { env: { VIGIL_TOKEN: 'container-token-0123456789' } });
    expect([...cfg.exporters.keys()]).toEqual(['worm']);
    expect(cfg.service.pipelines[0].processors).toEqual(['audit', 'anomaly']);
    const protocols = (cfg.receivers.get('otlp')!.config as { protocols: Record<string, { endpoint: string; auth?: unknown }> }).protocols;
    for (const p of Object.values(protocols)) expect(p.auth).toEqual({ authenticator: 'bearertokenauth' });
    expect(cfg.service.telemetry.metrics.auth).toEqual({ authenticator: 'bearertokenauth' });
    expect(cfg.service.extensions).toContain('bearertokenauth');
    expect(() => loadConfig(path, registry, { env: {} })).toThrow(/VIGIL_TOKEN is not set/);
  });

  it('fills defaults and accepts type/name ids', () => {
    const cfg = validateConfig(
      { ...minimal, exporters: { 'file/a': { path: '/tmp/a' }, 'debug/b': {} }, service: { pipelines: { 'logs/x': { exporters: ['file/a', 'debug/b'] } } } },
      registry,
    );
    expect(cfg.exporters.get('debug/b')!.config).toEqual({ verbosity: 'basic' });
    expect(cfg.service.telemetry.metrics.address).toBe('127.0.0.1:8888');
    expect(cfg.service.shutdown_timeout).toBe(30_000);
  });

  it('expands ${env:VAR} and ${env:VAR:-default}, typed when the whole value is one reference', () => {
    const cfg = validateConfig(
      {
        exporters: { file: { path: '${env:DIR}/archive.jsonl', rotation: { max_megabytes: '${env:MB}', max_backups: '${env:KEEP:-3}' } } },
        service: { pipelines: { logs: { exporters: ['file'] } }, shutdown_timeout: '$${env:literal} ignored'.length > 0 ? '5s' : '' },
      },
      registry,
      'test',
      { env: { DIR: '/data', MB: '7' } },
    );
    expect(cfg.exporters.get('file')!.config).toEqual({ path: '/data/archive.jsonl', rotation: { max_megabytes: 7, max_backups: 3 } });
  });

  it('names the key of a missing env var', () => {
    const issues = issuesOf({ ...minimal, exporters: { file: { path: '${env:NOPE}' } } });
    expect(issues).toEqual([{ path: 'exporters.file.path', message: expect.stringContaining('NOPE is not set') }]);
  });

  it('names an unknown component type and lists the known ones', () => {
    const issues = issuesOf({ ...minimal, exporters: { ...minimal.exporters, kafka: {} } });
    expect(issues[0].path).toBe('exporters.kafka');
    expect(issues[0].message).toMatch(/unknown exporter type "kafka".*file/);
  });

  it('names a pipeline reference to an undefined exporter', () => {
    const issues = issuesOf({ ...minimal, service: { pipelines: { logs: { exporters: ['file', 'otlp_grpc'] } } } });
    expect(issues).toEqual([{ path: 'service.pipelines.logs.exporters.1', message: expect.stringContaining('"otlp_grpc" which is not defined') }]);
  });

  it('names unknown keys and bad values inside a component', () => {
    const issues = issuesOf({ ...minimal, exporters: { file: { path: '/x', rotaton: {} } } });
    expect(issues[0]).toEqual({ path: 'exporters.file', message: expect.stringContaining('"rotaton"') });
    const bad = issuesOf({ ...minimal, service: { ...minimal.service, telemetry: { metrics: { address: 'localhost' } } } });
    expect(bad[0]).toEqual({ path: 'service.telemetry.metrics.address', message: expect.stringContaining('host:port') });
  });

  it('rejects non-log pipelines and missing exporters, but replay mode allows processor-only pipelines', () => {
    expect(issuesOf({ ...minimal, service: { pipelines: { traces: { exporters: ['file'] } } } })[0].path).toBe('service.pipelines.traces');
    const noExp = { service: { pipelines: { logs: { processors: [] , receivers: [], exporters: [] } } } };
    expect(issuesOf(noExp)[0].message).toMatch(/empty pipeline/);
    const cfg = validateConfig({ exporters: {}, service: { pipelines: { logs: { exporters: [], processors: [], receivers: [] , } } } }, registry, 't', { mode: 'replay' });
    expect(cfg.service.pipelines).toHaveLength(1);
  });

  it('reports unreadable files and invalid YAML with the file name', () => {
    const dir = tempDir();
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'receivers: [unclosed');
    expect(() => loadConfig(bad, registry)).toThrow(/bad\.yaml is not valid YAML/);
    expect(() => loadConfig(join(dir, 'missing.yaml'), registry)).toThrow(/cannot read config file/);
  });
});

describe('units', () => {
  it('parses durations', () => {
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('400d')).toBe(400 * 86_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration(42)).toBe(42);
    expect(() => parseDuration('5 parsecs')).toThrow(/invalid duration/);
  });
  it('parses sizes', () => {
    expect(parseSize('64MiB')).toBe(64 * 1024 * 1024);
    expect(parseSize('1kb')).toBe(1000);
    expect(parseSize(10)).toBe(10);
    expect(() => parseSize('12 bananas')).toThrow(/invalid size/);
  });
});
