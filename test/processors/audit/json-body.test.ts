import { describe, expect, it } from 'vitest';
import { parseBody, parseText } from '../../../src/processors/audit/body.js';
import { mapJsonObject } from '../../../src/processors/audit/json-body.js';
import { corpusLines, haveCorpora } from './corpora.js';

const opts = { maxParseLength: 65_536, durationUnit: 's' as const };

describe('JSON access-log bodies', () => {
  it.skipIf(!haveCorpora)('maps a Caddy access log line', () => {
    const line = corpusLines('crowdsec-json/caddy-basic-auth-bf.jsonl')[0];
    expect(parseText(line, opts)).toEqual({
      status: 'ok',
      fields: {
        method: 'GET',
        target: '/',
        path: '/',
        status: 401,
        size: 0,
        durationS: 0.000033987,
        userAgent: 'curl/7.88.1',
        client: '127.0.0.1',
        timeMs: 1711741827962.6287,
        protocol: 'HTTP/1.1',
        serverAddress: 'localhost',
        serverPort: 9080,
      },
    });
  });

  it.skipIf(!haveCorpora)('maps a Traefik access log line (Duration in ns, ClientHost over ClientAddr, ClientUsername "-")', () => {
    const line = corpusLines('crowdsec-json/traefik_json.jsonl')[0];
    expect(parseText(line, opts)).toEqual({
      status: 'ok',
      fields: {
        method: 'GET',
        target: '/594VAEoi.save',
        path: '/594VAEoi.save',
        status: 200,
        size: 357,
        durationS: 357313e-9,
        userAgent: 'Nikto',
        client: '172.17.0.1',
        timeMs: Date.UTC(2021, 11, 8, 14, 2, 43),
        protocol: 'HTTP/1.1',
        serverAddress: 'test.docker.localhost',
      },
    });
  });

  it.skipIf(!haveCorpora)('Caddy and Traefik lines both yield the core access fields', () => {
    const core = ['client', 'durationS', 'method', 'path', 'protocol', 'serverAddress', 'size', 'status', 'timeMs'];
    for (const file of ['crowdsec-json/caddy-basic-auth-bf.jsonl', 'crowdsec-json/caddy-logs.jsonl', 'crowdsec-json/traefik_json.jsonl', 'crowdsec-json/traefik_base-http-scenario.jsonl']) {
      const ok = corpusLines(file).map((l) => parseText(l, opts)).filter((r) => r?.status === 'ok');
      expect(ok.length, file).toBeGreaterThan(0);
      for (const r of ok) expect(Object.keys(r!.fields), file).toEqual(expect.arrayContaining(core));
    }
  });

  it.skipIf(!haveCorpora)('a Caddy line with status 0 is partial, a debug line unparsed, a plain-text line unparsed', () => {
    const lines = corpusLines('crowdsec-json/caddy-logs.jsonl');
    expect(parseText(lines[0], opts)).toMatchObject({ status: 'partial', issue: 'JSON body lacks status' });
    expect(parseText(lines[10], opts)?.status).toBe('unparsed');
    expect(parseText(corpusLines('crowdsec-json/traefik_json.jsonl')[5], opts)?.status).toBe('unparsed');
  });

  it('reads the field names the issue lists, with their units', () => {
    const r = mapJsonObject(
      {
        username: 'alice', remote_addr: '203.0.113.9', verb: 'POST', uri: '/api/login?next=/', status_code: '401',
        latency_ms: 12.5, body_bytes_sent: 17, http_user_agent: 'curl/8', '@timestamp': '2024-03-01T10:00:00.250+01:00', session_id: 's-1',
      },
      { durationUnit: 's' },
    );
    expect(r).toEqual({
      status: 'ok',
      fields: {
        user: 'alice', client: '203.0.113.9', method: 'POST', target: '/api/login?next=/', path: '/api/login', query: 'next=/', status: 401,
        durationS: 0.0125, size: 17, userAgent: 'curl/8', timeMs: Date.UTC(2024, 2, 1, 9, 0, 0, 250), session: 's-1',
      },
    });
  });

  it('reads nested names (user.name, request.remote_ip, request.headers.User-Agent) and flat dotted keys', () => {
    const nested = mapJsonObject({ user: { name: 'bob' }, request: { remote_ip: '::1', method: 'GET', uri: '/x', headers: { 'User-Agent': ['ua/1'] } }, response: 204 }, { durationUnit: 's' });
    expect(nested.fields).toMatchObject({ user: 'bob', client: '::1', method: 'GET', path: '/x', userAgent: 'ua/1', status: 204 });
    const flat = mapJsonObject({ 'user.name': 'carol', ip: '10.0.0.1', method: 'GET', path: '/', status: 200 }, { durationUnit: 's' });
    expect(flat.fields).toMatchObject({ user: 'carol', client: '10.0.0.1' });
  });

  it('applies the duration unit rule: a unit in the string wins, a bare `duration` uses the configured unit', () => {
    const d = (v: unknown, durationUnit: 's' | 'ms' = 's') => mapJsonObject({ duration: v }, { durationUnit }).fields.durationS;
    expect(d(0.25)).toBe(0.25);
    expect(d(250, 'ms')).toBe(0.25);
    expect(d('1.5ms')).toBeCloseTo(0.0015, 12);
    expect(d('350µs')).toBeCloseTo(0.00035, 12);
    expect(d('1m2.5s')).toBe(62.5);
    expect(d('soon')).toBeUndefined();
    expect(mapJsonObject({ Duration: 1_500_000 }, { durationUnit: 's' }).fields.durationS).toBe(0.0015);
    expect(mapJsonObject({ request_time: '0.005' }, { durationUnit: 'ms' }).fields.durationS).toBe(0.005);
    expect(mapJsonObject({ duration_ms: 40 }, { durationUnit: 's' }).fields.durationS).toBe(0.04);
  });

  it('reads an nginx JSON `request` line and ClientAddr with a port', () => {
    const r = mapJsonObject({ request: 'DELETE /items/7 HTTP/2.0', ClientAddr: '[2001:db8::1]:4431', status: 204 }, { durationUnit: 's' });
    expect(r.fields).toMatchObject({ method: 'DELETE', path: '/items/7', protocol: 'HTTP/2.0', client: '2001:db8::1', clientPort: 4431, status: 204 });
    expect(r.status).toBe('ok');
  });

  it('reads a CLF line wrapped in a JSON message (Docker json-file, journald)', () => {
    const r = parseText(JSON.stringify({ log: '1.2.3.4 - bob [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 5\n', stream: 'stdout' }), opts)!;
    expect(r.status).toBe('ok');
    expect(r.fields).toMatchObject({ client: '1.2.3.4', user: 'bob', status: 200 });
  });

  it('reads explicit outcome and action fields', () => {
    const r = mapJsonObject({ event: { action: 'user.login', outcome: 'failure' }, user: 'eve', ip: '198.51.100.7' }, { durationUnit: 's' });
    expect(r).toMatchObject({ status: 'partial', fields: { action: 'login', outcome: 'failure', user: 'eve' } });
    expect(mapJsonObject({ success: false }, { durationUnit: 's' }).fields.outcome).toBe('failure');
  });

  it('reads a kvlist body the way pino-http sends it', () => {
    const body = {
      kvlistValue: {
        values: [
          { key: 'req', value: { kvlistValue: { values: [
            { key: 'method', value: { stringValue: 'GET' } },
            { key: 'url', value: { stringValue: '/health' } },
            { key: 'remoteAddress', value: { stringValue: '::ffff:127.0.0.1' } },
            { key: 'headers', value: { kvlistValue: { values: [{ key: 'user-agent', value: { stringValue: 'kube-probe/1.29' } }] } } },
          ] } } },
          { key: 'res', value: { kvlistValue: { values: [{ key: 'statusCode', value: { intValue: 200 } }] } } },
          { key: 'responseTime', value: { intValue: 3 } },
          { key: 'time', value: { intValue: 1_700_000_000_123 } },
        ],
      },
    };
    expect(parseBody(body, opts)).toEqual({
      status: 'ok',
      fields: { method: 'GET', target: '/health', path: '/health', status: 200, durationS: 0.003, userAgent: 'kube-probe/1.29', client: '::ffff:127.0.0.1', timeMs: 1_700_000_000_123 },
    });
  });

  it('does not follow prototype keys, and leaves non-objects alone', () => {
    expect(mapJsonObject(JSON.parse('{"__proto__": {"method": "GET"}, "constructor": "x"}'), { durationUnit: 's' }).status).toBe('unparsed');
    expect(parseText('[1,2,3]', opts)?.status).toBe('unparsed');
    expect(parseText('{"unterminated": ', opts)?.status).toBe('unparsed');
  });
});

describe('JSON timestamps', () => {
  it('reads ISO 8601 with a zone, $time_local and epochs by magnitude; refuses zoneless and implausible ones', async () => {
    const { parseTimestamp } = await import('../../../src/processors/audit/fields.js');
    const t = Date.UTC(2024, 2, 1, 9, 0, 0);
    expect(parseTimestamp('2024-03-01T10:00:00+01:00')).toBe(t);
    expect(parseTimestamp('2024-03-01 09:00:00Z')).toBe(t);
    expect(parseTimestamp('01/Mar/2024:10:00:00 +0100')).toBe(t);
    expect(parseTimestamp(t / 1000)).toBe(t);
    expect(parseTimestamp(t)).toBe(t);
    expect(parseTimestamp(t * 1000)).toBe(t);
    expect(parseTimestamp(t * 1e6)).toBe(t);
    expect(parseTimestamp(String(t / 1000))).toBe(t);
    expect(parseTimestamp('2024-03-01T09:00:00')).toBeUndefined();
    expect(parseTimestamp(0.123)).toBeUndefined();
    expect(parseTimestamp('yesterday')).toBeUndefined();
    expect(parseTimestamp({})).toBeUndefined();
  });
});
