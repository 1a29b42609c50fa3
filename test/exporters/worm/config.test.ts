// The worm exporter's config: the issue's example works as written; mistakes
// are config errors naming the key path; retention presets and their minimums.
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/config/errors.js';
import { defaultRegistry } from '../../../src/components.js';
import type { WormConfig } from '../../../src/exporters/worm/config.js';
import { parseRetention, retainUntil, RETENTION_PRESETS } from '../../../src/exporters/worm/retention.js';

const ISSUE_CONFIG = `
exporters:
  worm:
    directory: ./vigil-data/archive
    segment: { max_bytes: 64MiB, max_age: 5m }
    heartbeat: 1m
    signing: { key_file: ./vigil-data/keys/archive.key }
    retention: pci-dss
    s3:
      bucket: audit-logs
      prefix: vigil/
      endpoint: \${env:S3_ENDPOINT}
      region: us-east-1
      force_path_style: true
      object_lock: { mode: COMPLIANCE }
service:
  pipelines:
    logs: { exporters: [worm] }
`;

function load(yaml: string, env: NodeJS.ProcessEnv = { S3_ENDPOINT: 'http://127.0.0.1:7480' }) {
  return validateConfig(parseYaml(yaml), defaultRegistry(), 'test', { env });
}

function issues(yaml: string): string[] {
  try {
    load(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.filter((i) => i.path.startsWith('exporters.')).map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
}

const worm = (body: string) => `exporters:\n  worm:\n${body.replace(/^/gm, '    ')}\nservice:\n  pipelines:\n    logs: { exporters: [worm] }\n`;

describe('worm config', () => {
  it('accepts the issue example as written', () => {
    const c = load(ISSUE_CONFIG).exporters.get('worm')!.config as WormConfig;
    expect(c.segment).toEqual({ max_bytes: 64 * 1024 * 1024, max_age: 300_000 });
    expect(c.heartbeat).toBe(60_000);
    expect(c.retention?.preset?.name).toBe('pci-dss');
    expect(c.s3).toMatchObject({ bucket: 'audit-logs', prefix: 'vigil/', endpoint: 'http://127.0.0.1:7480', force_path_style: true, object_lock: { mode: 'COMPLIANCE', legal_hold: false }, allow_unlocked_bucket: false });
  });

  it('has working defaults with no settings at all', () => {
    const c = load(worm('{}')).exporters.get('worm')!.config as WormConfig;
    expect(c).toMatchObject({ directory: './vigil-data/archive', heartbeat: 60_000, signing: { key_file: './vigil-data/keys/archive.key', generate: true } });
    expect(c.encoding).toBe('proto'); // format v2; compression_level unset: zstd 1 (gzip 3 for json)
    expect(c.compression_level).toBeUndefined();
  });

  it('encoding: proto or json; a gzip level above 9 is refused for json', () => {
    expect((load(worm('encoding: json\ncompression_level: 9')).exporters.get('worm')!.config as WormConfig).encoding).toBe('json');
    expect(issues(worm('encoding: proto\ncompression_level: 19'))).toEqual([]);
    expect(issues(worm('encoding: protobuf'))[0]).toMatch(/^exporters\.worm\.encoding: encoding is proto \(format v2, the default\) or json/);
    expect(issues(worm('encoding: json\ncompression_level: 12'))[0]).toMatch(/^exporters\.worm\.compression_level: encoding: json seals with gzip, whose levels are 1–9/);
  });

  it('names the key path of each mistake', () => {
    expect(issues(worm('retention: { preset: sox, period: 400d }'))).toEqual([
      'exporters.worm.retention: period 400d is shorter than the sox minimum of 7 year(s) (2555d): SOX section 802 / 17 CFR 210.2-06: audit records kept 7 years',
    ]);
    expect(issues(worm('s3: { bucket: audit-logs }'))[0]).toMatch(/^exporters\.worm\.retention: S3 Object Lock needs a retention/);
    expect(issues(worm('retention: gdpr'))[0]).toMatch(/^exporters\.worm\.retention: unknown retention preset "gdpr"/);
    expect(issues(worm('retention: 400d\ns3: { bucket: b-1, object_lock: { mode: STRICT } }'))[0]).toMatch(/^exporters\.worm\.s3\.object_lock\.mode: mode is COMPLIANCE/);
    expect(issues(worm('segmnt: { max_bytes: 1MiB }'))[0]).toMatch(/^exporters\.worm: unknown key\(s\) "segmnt"/);
    expect(issues(worm('segment: { max_bytes: 1GiB }'))[0]).toMatch(/^exporters\.worm\.segment\.max_bytes: max_bytes above 512MiB: archive readers refuse segments that inflate past 1GiB/);
    expect(issues(worm('heartbeat: soon'))[0]).toMatch(/^exporters\.worm\.heartbeat: invalid duration/);
    expect(issues(worm('local_retention: 90d'))[0]).toMatch(/^exporters\.worm\.local_retention: local copies are pruned only once uploaded/);
    expect(issues(worm('retention: 400d\ns3: { bucket: b-1, encryption: { kms_key_id: k } }'))[0]).toMatch(/^exporters\.worm\.s3\.encryption\.kms_key_id: kms_key_id is used only with mode: sse-kms/);
    expect(issues(worm('retention: 400d\ns3: { bucket: b-1, encryption: { mode: sse-kms } }'))[0]).toMatch(/^exporters\.worm\.s3\.encryption\.kms_key_id: sse-kms needs kms_key_id/);
    expect(issues(worm('encryption: { key_file: k, kms_key_id: alias/vigil }'))[0]).toMatch(/^exporters\.worm\.encryption\.kms_key_id: local segments are encrypted with key_file only/);
    expect(issues(ISSUE_CONFIG.replace('${env:S3_ENDPOINT}', 'not a url'))[0]).toMatch(/^exporters\.worm\.s3\.endpoint: expected a URL/);
  });
});

describe('retention', () => {
  it('presets carry their documented minimums', () => {
    expect(Object.fromEntries(Object.values(RETENTION_PRESETS).map((p) => [p.name, p.years]))).toEqual({ 'pci-dss': 1, hipaa: 6, 'sec-17a-4': 6, sox: 7 });
  });

  it('retain-until is seal time plus the longer of period and preset, in calendar years, rounded up to the second', () => {
    const sealed = Date.parse('2028-02-29T12:00:00.250Z');
    expect(new Date(retainUntil(parseRetention('400d'), sealed)).toISOString()).toBe('2029-04-04T12:00:01.000Z');
    expect(new Date(retainUntil(parseRetention('pci-dss'), sealed)).toISOString()).toBe('2029-03-01T12:00:01.000Z');
    expect(new Date(retainUntil(parseRetention({ preset: 'pci-dss', period: '400d' }), sealed)).toISOString()).toBe('2029-04-04T12:00:01.000Z');
    expect(new Date(retainUntil(parseRetention('sox'), Date.parse('2026-01-01T00:00:00Z'))).toISOString()).toBe('2033-01-01T00:00:00.000Z');
  });

  it('refuses periods too short to mean anything', () => {
    expect(() => parseRetention('2h')).toThrow(/too short/);
  });
});
