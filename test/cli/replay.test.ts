// `vigil replay` end to end: the built CLI (node bin/vigil.js, after `npm run build`)
// over real corpora, stdin, mixed formats and bad input.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeJsonRequest, encodeJsonRequest } from '../../src/otlp/json.js';
import { batchToRequest } from '../../src/otlp/convert.js';
import { scalarOf } from '../../src/pipeline/record.js';
import type { KeyValue, LogRecord } from '../../src/pipeline/record.js';
import { VIGIL_BIN, vigilSync } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { record } from '../processors/audit/helpers.js';

const built = existsSync(resolve(VIGIL_BIN, '../../dist/src/cli/main.js'));
if (!built) throw new Error('dist/ is missing: run `npm run build` before these tests (npm test does it)');
const CORPORA = resolve(process.cwd(), '../shared/corpora');
const haveCorpora = existsSync(CORPORA);
if (!haveCorpora) console.warn(`skipping replay corpus tests: ${CORPORA} does not exist`);

const dir = tempDir('vigil-replay-');
const config = join(dir, 'vigil.yaml');
writeFileSync(
  config,
  `processors:
  audit: { environment: replay-test }
service:
  pipelines:
    logs:
      processors: [audit]
`,
);

/** Every log record of an output, in order, as attributes objects (and the raw records). */
function recordsOf(output: string): { log: LogRecord; attrs: Record<string, unknown>; resource: KeyValue[] }[] {
  const out: { log: LogRecord; attrs: Record<string, unknown>; resource: KeyValue[] }[] = [];
  for (const line of output.split('\n')) {
    if (line === '') continue;
    const { request } = decodeJsonRequest(line);
    for (const rl of request.resourceLogs)
      for (const sl of rl.scopeLogs)
        for (const log of sl.logRecords) {
          const attrs: Record<string, unknown> = {};
          for (const kv of log.attributes) attrs[kv.key] = scalarOf(kv.value) ?? kv.value;
          out.push({ log, attrs, resource: rl.resource?.attributes ?? [] });
        }
  }
  return out;
}

describe('vigil replay', () => {
  it.skipIf(!haveCorpora)('enriches the Combined corpus to a file: every record, in order, all ok, no progress bar when not a terminal', () => {
    const input = join(CORPORA, 'elastic-apache_logs.combined');
    const output = join(dir, 'combined.jsonl');
    const r = vigilSync(['replay', '--config', config, '--output', output, input]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(/[\r\x1b]/);
    expect(r.stderr).toMatch(/^vigil replay: 10,000 records from 10,000 lines \(10,000 ok\) in [\d.]+s.* → /);
    const lines = readFileSync(input, 'utf8').split('\n').filter((l) => l !== '');
    const recs = recordsOf(readFileSync(output, 'utf8'));
    expect(recs).toHaveLength(10_000);
    recs.forEach((rec, i) => expect(rec.log.body?.stringValue).toBe(lines[i]));
    expect(recs[0].attrs).toMatchObject({
      'log.file.name': 'elastic-apache_logs.combined',
      'log.record.uid': 'elastic-apache_logs.combined:1',
      'client.address': '83.149.9.216',
      'geo.country.iso_code': 'RU',
      'deployment.environment.name': 'replay-test',
      'audit.parse_status': 'ok',
    });
    expect(new Set(recs.map((x) => x.attrs['audit.record_id'])).size).toBe(10_000);
  });

  it('reads stdin: OTLP JSON lines keep their resource, text lines become records, order kept', () => {
    const otlp = [record('1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "POST /login HTTP/1.1" 401 12')];
    otlp[0].resource = { resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] }, schemaUrl: '' };
    const input = [
      '8.8.8.8 - alice [01/Jan/2024:00:00:01 +0000] "GET /a HTTP/1.1" 200 1',
      encodeJsonRequest(batchToRequest(otlp)),
      '{"method":"DELETE","path":"/items/9","status":204,"ip":"9.9.9.9","time":"2024-01-01T00:00:02Z"}',
      '',
      'not a log line at all',
      '\u0000\uFFFD binary-ish junk',
    ].join('\n');
    const r = vigilSync(['replay', '-c', config], { input });
    expect(r.status, r.stderr).toBe(0);
    const recs = recordsOf(r.stdout);
    expect(recs.map((x) => x.attrs['audit.parse_status'])).toEqual(['ok', 'ok', 'ok', 'unparsed', 'unparsed']);
    expect(recs.map((x) => x.attrs['audit.action'])).toEqual(['read', 'login', 'delete', 'unknown', 'unknown']);
    expect(recs[0].attrs).toMatchObject({ 'user.id': 'alice', 'log.record.uid': 'stdin:1', 'geo.country.iso_code': 'US' });
    expect(recs[0].attrs['log.file.name']).toBeUndefined();
    expect(recs[1].resource).toEqual([{ key: 'service.name', value: { stringValue: 'shop' } }]);
    expect(recs[1].attrs).toMatchObject({ 'audit.outcome': 'failure', 'ocsf.class_uid': 3002 });
    expect(recs[1].attrs['log.record.uid']).toBeUndefined();
    expect(recs[2].attrs).toMatchObject({ 'http.request.method': 'DELETE', 'audit.resource': '/items/{id}', 'log.record.uid': 'stdin:3' });
    expect(recs[4].log.body?.stringValue).toBe('\u0000\uFFFD binary-ish junk');
  });

  it('writes to stdout redirected to a file (in place, like --output) the same lines as --output', () => {
    const input = join(dir, 'redirect-in.log');
    writeFileSync(input, Array.from({ length: 300 }, (_, i) => `10.0.${i % 7}.${i % 250} - - [01/Jan/2024:00:${String(i % 60).padStart(2, '0')}:00 +0000] "GET /p/${i} HTTP/1.1" 200 ${i}`).join('\n'));
    const strip = (s: string) => s.replace(/"audit\.ingested_at","value":\{"stringValue":"[^"]+"\}/g, '');
    const viaOption = join(dir, 'redirect-option.jsonl');
    expect(vigilSync(['replay', '-c', config, '-q', '-o', viaOption, input]).status).toBe(0);
    const viaStdout = join(dir, 'redirect-stdout.jsonl');
    // Something already there, as a shell's `>>` leaves it: written after it, not over it.
    writeFileSync(viaStdout, 'before\n');
    const fd = openSync(viaStdout, 'a');
    try {
      const r = spawnSync(process.execPath, [VIGIL_BIN, 'replay', '-c', config, '-q', input], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
    } finally {
      closeSync(fd);
    }
    const written = readFileSync(viaStdout, 'utf8');
    expect(written.startsWith('before\n')).toBe(true);
    expect(strip(written.slice('before\n'.length))).toBe(strip(readFileSync(viaOption, 'utf8')));
    expect(recordsOf(written.slice('before\n'.length))).toHaveLength(300);
  });

  it('is deterministic: the same input gives the same output but for audit.ingested_at', () => {
    const input = ['1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1', 'same', 'same'].join('\n');
    const strip = (s: string) => s.replace(/"audit\.ingested_at","value":\{"stringValue":"[^"]+"\}/g, '');
    const a = vigilSync(['replay', '-c', config, '-q'], { input });
    const b = vigilSync(['replay', '-c', config, '-q'], { input });
    expect(a.status).toBe(0);
    expect(strip(a.stdout)).toBe(strip(b.stdout));
    const ids = recordsOf(a.stdout).map((x) => x.attrs['audit.record_id']);
    expect(new Set(ids).size).toBe(3);
  });

  it('replays its own output unchanged (already-enriched records pass through)', () => {
    const first = vigilSync(['replay', '-c', config, '-q'], { input: '1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1\n' });
    const again = vigilSync(['replay', '-c', config, '-q'], { input: first.stdout });
    expect(again.status).toBe(0);
    expect(again.stdout).toBe(first.stdout);
  });

  it('warns about a broken OTLP line with its line number and keeps it as a text record', () => {
    const r = vigilSync(['replay', '-c', config], { input: '{"resourceLogs": 5}\n' });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('vigil replay: stdin:1: malformed OTLP/JSON');
    expect(r.stderr).toContain('kept as a text record');
    const recs = recordsOf(r.stdout);
    expect(recs).toHaveLength(1);
    expect(recs[0].log.body?.stringValue).toBe('{"resourceLogs": 5}');
  });

  it('refuses a missing input, an output that is an input or cannot be written, and a bad config, with exit 2', () => {
    const missing = vigilSync(['replay', '-c', config, join(dir, 'nope.log')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('cannot read');
    const input = join(dir, 'in.log');
    writeFileSync(input, 'x\n');
    const same = vigilSync(['replay', '-c', config, '-o', input, input]);
    expect(same.status).toBe(2);
    expect(same.stderr).toContain('is also an input');
    const unwritable = vigilSync(['replay', '-c', config, '-o', join(dir, 'no-such-dir', 'out.jsonl'), input]);
    expect(unwritable.status).toBe(2);
    expect(unwritable.stderr).toContain(`cannot write --output ${join(dir, 'no-such-dir', 'out.jsonl')}: ENOENT`);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'processors:\n  audit: { geo: { enabeld: true } }\nservice:\n  pipelines:\n    logs:\n      processors: [audit]\n');
    const badRun = vigilSync(['replay', '-c', bad, input]);
    expect(badRun.status).toBe(2);
    expect(badRun.stderr).toContain('processors.audit.geo');
  });

  it('refuses to start when pseudonymisation is on and the key is missing', () => {
    const cfg = join(dir, 'pseudo.yaml');
    writeFileSync(cfg, 'processors:\n  audit: { pseudonymisation: { key_env: VIGIL_TEST_NO_SUCH_KEY } }\nservice:\n  pipelines:\n    logs:\n      processors: [audit]\n');
    const r = vigilSync(['replay', '-c', cfg], { input: 'x\n', env: { VIGIL_TEST_NO_SUCH_KEY: '' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('processors.audit.pseudonymisation.key_env: the environment variable VIGIL_TEST_NO_SUCH_KEY holding the pseudonymisation key is not set');
    expect(r.stdout).toBe('');
  });
});
