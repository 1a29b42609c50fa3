// What a Collector user's otelcol.yaml brings: renamed exporters, ${VAR}, the
// telemetry readers and log encoding, several files merged, --set, "did you mean".
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultRegistry } from '../../src/components.js';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig, validateConfig } from '../../src/config/load.js';
import { mergeConfig, parseSet } from '../../src/config/sources.js';
import { closest } from '../../src/config/suggest.js';
import { consoleLine, defaultEncoding } from '../../src/telemetry/logger.js';
import { issuesOf } from '../helpers/config.js';
import { tempDir } from '../helpers/tmp.js';

const registry = defaultRegistry();


const fileOnly = (extra: Record<string, unknown> = {}) => ({
  exporters: { file: { path: '/tmp/x.jsonl' } },
  service: { pipelines: { logs: { exporters: ['file'] } }, ...extra },
});

describe('Collector names', () => {
  it('accepts the otlp and otlphttp exporters as the renamed otlp_grpc and otlp_http, with a deprecation warning', () => {
    const cfg = validateConfig(
      {
        receivers: { otlp: { protocols: { grpc: {} } } },
        exporters: { otlp: { endpoint: '127.0.0.1:4317', tls: { insecure: true } }, 'otlphttp/b': { endpoint: 'http://127.0.0.1:4318' } },
        service: { pipelines: { logs: { receivers: ['otlp'], exporters: ['otlp', 'otlphttp/b'] } } },
      },
      registry,
    );
    expect(cfg.exporters.get('otlp')!.factory.type).toBe('otlp_grpc');
    expect(cfg.exporters.get('otlphttp/b')!.factory.type).toBe('otlp_http');
    // The receiver of the same name is still the receiver: components are per kind.
    expect(cfg.receivers.get('otlp')!.factory.type).toBe('otlp');
    expect(cfg.warnings.map((w) => w.path)).toEqual(['exporters.otlp', 'exporters.otlphttp/b']);
    expect(cfg.warnings[0].message).toMatch(/now called "otlp_grpc".*deprecated/);
  });

  it('ignores a batch processor with a warning pointing to the exporters\' sending_queue.batch', () => {
    const cfg = validateConfig(
      { processors: { batch: { timeout: '1s' }, audit: {} }, ...fileOnly(), service: { pipelines: { logs: { processors: ['batch', 'audit'], exporters: ['file'] } } } },
      registry,
    );
    expect(cfg.service.pipelines[0].processors).toEqual(['audit']);
    expect(cfg.warnings).toEqual([{ path: 'processors.batch', message: expect.stringContaining('sending_queue.batch') }]);
  });
});

describe('environment references', () => {
  it('reads ${VAR} as ${env:VAR} (the default scheme), typed when it is the whole value', () => {
    const cfg = validateConfig(
      { exporters: { file: { path: '${DIR}/a.jsonl', rotation: { max_megabytes: '${MB}', max_backups: '${KEEP:-3}' } } }, service: { pipelines: { logs: { exporters: ['file'] } } } },
      registry,
      'test',
      { env: { DIR: '/data', MB: '7' } },
    );
    expect(cfg.exporters.get('file')!.config).toEqual({ path: '/data/a.jsonl', rotation: { max_megabytes: 7, max_backups: 3 } });
  });

  it('still refuses other schemes and names the unset variable', () => {
    expect(issuesOf({ exporters: { file: { path: '${file:/etc/x}' } }, service: { pipelines: { logs: { exporters: ['file'] } } } })[0].message).toMatch(/unsupported reference/);
    expect(issuesOf({ exporters: { file: { path: '${NOPE}' } }, service: { pipelines: { logs: { exporters: ['file'] } } } })[0]).toEqual({
      path: 'exporters.file.path',
      message: expect.stringContaining('NOPE is not set'),
    });
  });
});

describe('service.telemetry', () => {
  it('maps a pull/prometheus reader to the metrics address', () => {
    const cfg = validateConfig(fileOnly({ telemetry: { metrics: { level: 'detailed', readers: [{ pull: { exporter: { prometheus: { host: '0.0.0.0', port: 9464 } } } }] } } }), registry);
    expect(cfg.service.telemetry.metrics).toMatchObject({ address: '0.0.0.0:9464', level: 'detailed' });
    const v6 = validateConfig(fileOnly({ telemetry: { metrics: { readers: [{ pull: { exporter: { prometheus: { host: '::1', port: 9464 } } } }] } } }), registry);
    expect(v6.service.telemetry.metrics.address).toBe('[::1]:9464');
  });

  it('refuses push readers and address together with readers, naming the fix', () => {
    const push = issuesOf(fileOnly({ telemetry: { metrics: { readers: [{ periodic: { exporter: { otlp: {} } } }] } } }));
    expect(push[0]).toEqual({ path: 'service.telemetry.metrics.readers.0', message: expect.stringContaining('pull reader') });
    const both = issuesOf(fileOnly({ telemetry: { metrics: { address: '127.0.0.1:1', readers: [{ pull: { exporter: { prometheus: { port: 2 } } } }] } } }));
    expect(both[0]).toEqual({ path: 'service.telemetry.metrics', message: expect.stringContaining('either address or readers') });
  });

  it('takes logs.encoding json or console, and defaults to console only on a terminal', () => {
    expect(validateConfig(fileOnly({ telemetry: { logs: { encoding: 'console' } } }), registry).service.telemetry.logs.encoding).toBe('console');
    expect(validateConfig(fileOnly(), registry).service.telemetry.logs.encoding).toBeUndefined();
    expect(issuesOf(fileOnly({ telemetry: { logs: { encoding: 'logfmt' } } }))[0].path).toBe('service.telemetry.logs.encoding');
    expect(defaultEncoding(true)).toBe('console');
    expect(defaultEncoding(false)).toBe('json');
  });

  it('console encoding: time, level, component, message, then the other fields', () => {
    const line = consoleLine('{"level":"warn","time":"2026-01-01T00:00:00.000Z","service":"vigil","component":"worm","kind":"exporter","msg":"slow disk"}\n');
    expect(line).toBe('2026-01-01T00:00:00.000Z\twarn\tworm\tslow disk\t{"kind":"exporter"}\n');
  });
});

describe('unknown keys', () => {
  it('suggests the closest known key', () => {
    expect(closest('threshhold', ['threshold', 'max_keys'])).toBe('threshold');
    expect(closest('max_recv_msg_size', ['endpoint', 'max_recv_msg_size_mib'])).toBe('max_recv_msg_size_mib');
    expect(closest('zzz', ['endpoint', 'tls'])).toBeUndefined();
  });

  it('says "did you mean" inside components and in service', () => {
    const issues = issuesOf({
      receivers: { otlp: { protocols: { grpc: { max_recv_msg_size: 4 } } } },
      processors: { anomaly: { threshhold: 0.9 } },
      exporters: { file: { path: '/x' } },
      service: { telemetry: { metrcs: {} }, pipelines: { logs: { receivers: ['otlp'], processors: ['anomaly'], exporters: ['file'] } } },
    });
    expect(issues).toEqual([
      { path: 'receivers.otlp.protocols.grpc', message: expect.stringContaining('"max_recv_msg_size" (did you mean "max_recv_msg_size_mib"?)') },
      { path: 'processors.anomaly', message: expect.stringContaining('"threshhold" (did you mean "threshold"?)') },
      { path: 'service.telemetry', message: expect.stringContaining('"metrcs" (did you mean "metrics"?)') },
    ]);
  });

  it('an invalid component is reported once, not again as "not defined" where a pipeline uses it', () => {
    const issues = issuesOf({
      receivers: { otlp: { protocols: { grpc: { endpoint: 'nowhere' } } } },
      exporters: { file: { path: '/x' } },
      service: { pipelines: { logs: { receivers: ['otlp', 'otlp/missing'], exporters: ['file'] } } },
    });
    expect(issues.map((i) => i.path)).toEqual(['receivers.otlp.protocols.grpc.endpoint', 'service.pipelines.logs.receivers.1']);
  });

  it('refuses connectors, which Vigil does not have, instead of ignoring them', () => {
    expect(issuesOf({ connectors: { forward: {} }, ...fileOnly() })[0]).toEqual({ path: 'connectors', message: expect.stringContaining('Vigil has no connectors') });
    expect(() => validateConfig({ connectors: {}, ...fileOnly() }, registry)).not.toThrow();
  });

  it('suggests a component type', () => {
    expect(issuesOf({ exporters: { otlp_grcp: {} }, service: { pipelines: { logs: { exporters: ['otlp_grcp'] } } } })[0].message).toMatch(/did you mean "otlp_grpc"/);
  });
});

describe('several configs and --set', () => {
  it('merges as the Collector: maps deeply, later scalars win, lists replaced', () => {
    const merged = mergeConfig(
      { a: { b: 1, c: [1, 2], d: { e: 'x' } }, keep: true },
      { a: { b: 2, c: [3], d: { f: 'y' } } },
    );
    expect(merged).toEqual({ a: { b: 2, c: [3], d: { e: 'x', f: 'y' } }, keep: true });
  });

  it('--set nests on :: and reads the value as YAML', () => {
    expect(parseSet('exporters::otlp_grpc::endpoint=host:4317')).toEqual({ exporters: { otlp_grpc: { endpoint: 'host:4317' } } });
    expect(parseSet('service::pipelines::logs::exporters=[file, debug]')).toEqual({ service: { pipelines: { logs: { exporters: ['file', 'debug'] } } } });
    expect(parseSet('processors::anomaly::threshold=0.95')).toEqual({ processors: { anomaly: { threshold: 0.95 } } });
    expect(() => parseSet('no-equals-sign')).toThrow(/--set key::subkey=value/);
    expect(() => parseSet('a::::b=1')).toThrow(ConfigError);
  });

  it('loads files in order, then the --sets, and names every source', () => {
    const dir = tempDir();
    const base = join(dir, 'base.yaml');
    const prod = join(dir, 'prod.yaml');
    writeFileSync(base, 'exporters:\n  file: { path: /tmp/a.jsonl, rotation: { max_megabytes: 5 } }\nservice:\n  pipelines: { logs: { exporters: [file] } }\n');
    writeFileSync(prod, 'exporters:\n  file: { path: /tmp/b.jsonl }\n  debug: {}\nservice:\n  pipelines: { logs: { exporters: [file, debug] } }\n');
    const cfg = loadConfig({ configs: [base, prod], sets: ['exporters::file::rotation::max_backups=2'] }, registry);
    expect(cfg.exporters.get('file')!.config).toEqual({ path: '/tmp/b.jsonl', rotation: { max_megabytes: 5, max_backups: 2 } });
    expect(cfg.service.pipelines[0].exporters).toEqual(['file', 'debug']);
    expect(cfg.source).toBe(`${base} + ${prod} (with 1 --set)`);
    // The Collector's inline form.
    const inline = loadConfig([base, 'yaml:exporters::file::path: /tmp/c.jsonl'], registry);
    expect((inline.exporters.get('file')!.config as { path: string }).path).toBe('/tmp/c.jsonl');
  });
});
