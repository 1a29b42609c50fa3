import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FileExporter } from '../../../src/exporters/file/file.js';
import { Telemetry } from '../../../src/telemetry/metrics.js';
import { decodeJsonRequest } from '../../../src/otlp/json.js';
import { makeBatch } from '../../helpers/records.js';
import { tempDir } from '../../helpers/tmp.js';

describe('file exporter', () => {
  it('writes one OTLP JSON ExportLogsServiceRequest per line, in order, concurrent batches group-committed', async () => {
    const dir = tempDir();
    const path = join(dir, 'sub', 'archive.jsonl');
    const telemetry = new Telemetry({ processMetrics: false });
    const exp = new FileExporter('file', { path }, telemetry);
    await exp.start();
    await Promise.all(Array.from({ length: 20 }, (_, i) => exp.consume(makeBatch(5, `b${i}`))));
    await exp.shutdown();
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(20);
    const bodies = lines.flatMap((l) => decodeJsonRequest(l).request.resourceLogs[0].scopeLogs[0].logRecords.map((r) => r.body?.stringValue));
    expect(new Set(bodies).size).toBe(100);
    expect(bodies.filter((b) => b?.startsWith('b7-'))).toEqual(['b7-0', 'b7-1', 'b7-2', 'b7-3', 'b7-4']);
    const sent = await telemetry.registry.getSingleMetric('vigil_exporter_sent_log_records_total')!.get();
    expect(sent.values[0].value).toBe(100);
  });

  it('rotates by size and keeps max_backups', async () => {
    const dir = tempDir();
    const path = join(dir, 'a.jsonl');
    const exp = new FileExporter('file', { path, rotation: { max_megabytes: 0.001, max_backups: 2 } }, new Telemetry({ processMetrics: false }));
    await exp.start();
    for (let i = 0; i < 6; i++) await exp.consume(makeBatch(10, `r${i}`));
    await exp.shutdown();
    const files = readdirSync(dir).sort();
    expect(files).toContain('a.jsonl');
    expect(files.filter((f) => f.startsWith('a-'))).toHaveLength(2);
  });

  it('appends to an existing file after a restart', async () => {
    const dir = tempDir();
    const path = join(dir, 'a.jsonl');
    for (let round = 0; round < 2; round++) {
      const exp = new FileExporter('file', { path }, new Telemetry({ processMetrics: false }));
      await exp.start();
      await exp.consume(makeBatch(1, `round${round}`));
      await exp.shutdown();
    }
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(2);
  });
});
