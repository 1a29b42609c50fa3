// `vigil check`: the compliance report from a config and its archive, human and
// JSON, exit 1 on a failed check.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anyValue } from '../../src/pipeline/record.js';
import { archivePath, editSealedLines, makeBatch, newExporter, tempDir } from '../exporters/worm/helpers.js';

const root = resolve(import.meta.dirname, '../..');
const built = existsSync(join(root, 'dist/src/cli/main.js'));

function vigil(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [join(root, 'bin/vigil.js'), ...args], (err, stdout, stderr) => res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

let dir: string;
let cleanup: () => Promise<void>;
let config: string;

describe.skipIf(!built)('vigil check', () => {
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('vigil-check-'));
    const w = newExporter(dir, { retention: 'pci-dss' });
    await w.start();
    // Enriched records: every required audit field present, ingested 2 s after the event.
    const batch = makeBatch(50);
    for (const r of batch) {
      r.log.attributes.push(
        { key: 'audit.action', value: anyValue('read') },
        { key: 'audit.outcome', value: anyValue('success') },
        { key: 'audit.resource', value: anyValue('/items/{id}') },
        { key: 'client.address', value: anyValue('203.0.113.7') },
        { key: 'audit.ingested_at', value: anyValue(new Date(Number(BigInt(r.log.timeUnixNano!.toString()) / 1_000_000n) + 2000).toISOString()) },
        { key: 'anomaly.score', value: anyValue(0.1) },
      );
    }
    await w.consume(batch);
    await w.shutdown(new AbortController().signal);
    config = join(dir, 'vigil.yaml');
    await writeFile(
      config,
      `exporters:
  worm:
    directory: ${join(dir, 'archive')}
    signing: { key_file: ${join(dir, 'keys', 'archive.key')} }
    retention: pci-dss
service:
  pipelines:
    logs: { exporters: [worm] }
`,
    );
  });
  afterAll(async () => cleanup?.());

  it('reports each check with its controls; no failure means exit 0', async () => {
    const r = await vigil(['check', '--config', config]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/PASS {2}Archive integrity.*\n.*1\/1 segments valid, 50\/50 records valid/);
    expect(r.stdout).toMatch(/PASS {2}Required audit fields/);
    expect(r.stdout).toMatch(/audit\.outcome +100\.0%/);
    expect(r.stdout).toMatch(/PASS {2}Retention\n.*pci-dss/);
    expect(r.stdout).toMatch(/WARN {2}Write-once storage.*\n.*local disk only/);
    expect(r.stdout).toMatch(/WARN {2}Pseudonymisation.*\n.*off/);
    expect(r.stdout).toMatch(/PASS {2}Clock skew.*\n.*median 2\.0s/);
    expect(r.stdout).toMatch(/controls: .*SOC 2 CC7\.2/);
    expect(r.stdout).toMatch(/controls: .*PCI DSS 10\.5\.1/);
    expect(r.stdout).toMatch(/controls: GDPR Art\. 32\(1\)\(a\)/);
    expect(r.stdout).toMatch(/Result: WARN/);
    const j = JSON.parse((await vigil(['check', '--config', config, '--json'])).stdout);
    expect(j.status).toBe('warn');
    expect(j.checks.map((c: { id: string }) => c.id)).toEqual(['chain', 'audit_fields', 'retention', 'object_lock', 'encryption', 'pseudonymisation', 'clock_skew', 'anomaly_scoring']);
    expect(j.checks[1].details.share_percent['audit.record_id']).toBe(100);
  });

  it('a broken chain fails the report: exit 1', async () => {
    await editSealedLines(archivePath(dir, 1, 'sealed'), (l) => l.slice(0, 40));
    const r = await vigil(['check', '--config', config, '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.status).toBe('fail');
    expect(j.checks[0]).toMatchObject({ id: 'chain', status: 'fail' });
    expect(j.checks[0].summary).toMatch(/truncated/);
  });
});
