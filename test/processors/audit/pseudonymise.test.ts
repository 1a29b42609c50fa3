import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { auditConfigSchema } from '../../../src/processors/audit/config.js';
import { createAuditProcessor } from '../../../src/processors/audit/processor.js';
import { loadKeyEnv, loadKeyFile, Pseudonymiser, replaceDelimited } from '../../../src/processors/audit/pseudonymise.js';
import type { KeyValue } from '../../../src/pipeline/record.js';
import { Telemetry } from '../../../src/telemetry/metrics.js';
import { tempDir } from '../../helpers/tmp.js';
import { attrsOf, auditProcessor, record } from './helpers.js';

const KEY = 'correct-horse-battery-staple-0123456789';
const env = { VIGIL_KEY: KEY };
const on = (extra: object = {}) => ({ pseudonymisation: { key_env: 'VIGIL_KEY', ...extra } });
const LINE = '203.0.113.77 - alice [01/Jan/2024:00:00:00 +0000] "POST /login HTTP/1.1" 401 12 "-" "curl/8"';
const PUBLIC_LINE = '83.149.9.216 - alice [01/Jan/2024:00:00:00 +0000] "POST /login HTTP/1.1" 401 12 "-" "curl/8"';

function run(body: Parameters<typeof record>[0], config: object = on(), attrs: KeyValue[] = [], e: NodeJS.ProcessEnv = env) {
  const r = record(body, attrs);
  auditProcessor(config, e).process([r]);
  return r;
}

describe('pseudonymisation', () => {
  it('replaces user.id, client.address and session.id with stable keyed pseudonyms', () => {
    const a = attrsOf(run(JSON.stringify({ user: 'alice', ip: '83.149.9.216', session_id: 'abc123', method: 'GET', path: '/', status: 200 })));
    const b = attrsOf(run(JSON.stringify({ user: 'alice', ip: '83.149.9.216', session_id: 'abc123', method: 'GET', path: '/x', status: 200 })));
    for (const k of ['user.id', 'client.address', 'session.id']) {
      expect(a[k]).toMatch(/^ps_[A-Za-z0-9_-]{22}$/);
      expect(b[k]).toBe(a[k]);
    }
    expect(new Set([a['user.id'], a['client.address'], a['session.id']]).size).toBe(3);
    const otherKey = attrsOf(run(JSON.stringify({ user: 'alice' }), on(), [], { VIGIL_KEY: 'another-key-0123456789abcdef' }));
    expect(otherKey['user.id']).not.toBe(a['user.id']);
  });

  it('is the HMAC-SHA256 of the attribute name and value under the key, first 128 bits, base64url', async () => {
    const { createHmac } = await import('node:crypto');
    const expected = `ps_${createHmac('sha256', KEY).update('user.id\u0000alice').digest().subarray(0, 16).toString('base64url')}`;
    expect(attrsOf(run(LINE))['user.id']).toBe(expected);
  });

  it('replaces the same values in a CLF body, leaving the rest of the line as it was', () => {
    const r = run(PUBLIC_LINE);
    const a = attrsOf(r);
    expect(r.log.body?.stringValue).toBe(`${a['client.address']} - ${a['user.id']} [01/Jan/2024:00:00:00 +0000] "POST /login HTTP/1.1" 401 12 "-" "curl/8"`);
    expect(a['geo.country.iso_code']).toBe('RU');
    const kept = run(PUBLIC_LINE, on({ body: 'keep' }));
    expect(kept.log.body?.stringValue).toBe(PUBLIC_LINE);
  });

  it('replaces values inside JSON and kvlist bodies (JSON stays valid)', () => {
    const r = run(JSON.stringify({ request: { client_ip: '83.149.9.216', remote_ip: '83.149.9.216', headers: { 'X-Forwarded-For': ['83.149.9.216:5555'] } }, user: 'bob "the" builder', method: 'GET', uri: '/', status: 200 }));
    const a = attrsOf(r);
    const body = JSON.parse(r.log.body!.stringValue!);
    expect(body.request.client_ip).toBe(a['client.address']);
    expect(body.request.remote_ip).toBe(a['client.address']);
    expect(body.request.headers['X-Forwarded-For'][0]).toBe(`${a['client.address']}:5555`);
    expect(body.user).toBe(a['user.id']);
    const kv = run({ kvlistValue: { values: [{ key: 'user', value: { stringValue: 'carol' } }, { key: 'nested', value: { arrayValue: { values: [{ stringValue: 'hi carol!' }] } } }] } });
    expect(JSON.stringify(kv.log.body)).not.toContain('carol');
  });

  it('pseudonymises values the sender set as attributes, deprecated names included', () => {
    const a = attrsOf(run(undefined, on(), [{ key: 'net.peer.ip', value: { stringValue: '83.149.9.216' } }, { key: 'enduser.id', value: { stringValue: 'dave' } }]));
    expect(a['client.address']).toMatch(/^ps_/);
    expect(a['net.peer.ip']).toBe(a['client.address']);
    expect(a['user.id']).toMatch(/^ps_/);
    expect(a['enduser.id']).toBe(a['user.id']);
    expect(a['geo.country.iso_code']).toBe('RU');
  });

  it('pseudonymises any configured attribute, and leaves pseudonyms as they are', () => {
    const a = attrsOf(run(undefined, on({ attributes: ['user.email'] }), [{ key: 'user.email', value: { stringValue: 'e@example.com' } }, { key: 'user.id', value: { stringValue: 'u1' } }]));
    expect(a['user.email']).toMatch(/^ps_/);
    expect(a['user.id']).toBe('u1');
    const once = attrsOf(run(LINE));
    const twice = attrsOf(run(undefined, { ...on(), skip_enriched: false }, [{ key: 'user.id', value: { stringValue: once['user.id'] as string } }]));
    expect(twice['user.id']).toBe(once['user.id']);
  });

  it('truncates IP addresses instead when ip_truncation is set, and still hashes the rest', () => {
    const a = attrsOf(run(LINE, on({ ip_truncation: '/24 /48' })));
    expect(a['client.address']).toBe('203.0.113.0');
    expect(a['user.id']).toMatch(/^ps_/);
    const v6 = attrsOf(run('2a00:1450:4001:81b::200e - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1', on({ ip_truncation: true })));
    expect(v6['client.address']).toBe('2a00:1450:4001::');
    expect(v6['geo.country.iso_code']).toMatch(/^[A-Z]{2}$/);
    const host = attrsOf(run('lordgun.org - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1', on({ ip_truncation: true })));
    expect(host['client.address']).toMatch(/^ps_/);
  });

  it('never logs the key, nor puts it in errors', () => {
    let logged = '';
    const logger = pino({ level: 'trace' }, { write: (s: string) => (logged += s) });
    const p = createAuditProcessor(auditConfigSchema.parse(on()), 'audit', logger, new Telemetry({ processMetrics: false }), { env });
    p.process([record(LINE)]);
    expect(logged).toContain('audit processor ready');
    expect(logged).toContain('env VIGIL_KEY');
    expect(JSON.stringify(p.settings)).not.toContain(KEY);
    const hex = Buffer.from(KEY).toString('hex');
    const b64 = Buffer.from(KEY).toString('base64');
    for (const s of [KEY, hex, b64]) expect(logged).not.toContain(s);
    try {
      loadKeyEnv('K', { K: 'short-secret' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toContain('holds 12 bytes');
      expect((err as Error).message).not.toContain('short-secret');
    }
  });
});

describe('pseudonymisation key', () => {
  const dir = tempDir('vigil-key-');
  const keyFile = (name: string, content: string, mode: number) => {
    const p = join(dir, name);
    writeFileSync(p, content);
    chmodSync(p, mode);
    return p;
  };
  const build = (pseudonymisation: object, e: NodeJS.ProcessEnv = {}) =>
    createAuditProcessor(auditConfigSchema.parse({ pseudonymisation }), 'audit', pino({ level: 'silent' }), new Telemetry({ processMetrics: false }), { env: e });
  const issue = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).issues[0];
    }
    throw new Error('expected a ConfigError');
  };

  it('reads a key file readable only by its owner (a trailing newline is not part of the key)', () => {
    const withNl = keyFile('k1', `${KEY}\n`, 0o600);
    const without = keyFile('k2', KEY, 0o400);
    const p1 = new Pseudonymiser({ key: loadKeyFile(withNl), cacheSize: 10 });
    const p2 = new Pseudonymiser({ key: loadKeyFile(without), cacheSize: 10 });
    expect(p1.pseudonym('user.id', 'x')).toBe(p2.pseudonym('user.id', 'x'));
    expect(build({ key_file: withNl })).toBeDefined();
  });

  it.skipIf(process.platform === 'win32')('refuses a key file readable by group or others', () => {
    const open = keyFile('open', KEY, 0o644);
    expect(issue(() => build({ key_file: open }))).toEqual({
      path: 'processors.audit.pseudonymisation.key_file',
      message: expect.stringMatching(/accessible by group or others \(mode 0644\): run chmod 600 /),
    });
    expect(issue(() => build({ key_file: keyFile('group', KEY, 0o640) })).message).toContain('mode 0640');
  });

  it('refuses a missing file, a missing or empty variable, and a short key', () => {
    expect(issue(() => build({ key_file: join(dir, 'absent') }))).toEqual({ path: 'processors.audit.pseudonymisation.key_file', message: expect.stringContaining('ENOENT') });
    expect(issue(() => build({ key_env: 'VIGIL_NOPE' }, {}))).toEqual({ path: 'processors.audit.pseudonymisation.key_env', message: expect.stringContaining('VIGIL_NOPE') });
    expect(issue(() => build({ key_env: 'VIGIL_EMPTY' }, { VIGIL_EMPTY: '' })).path).toBe('processors.audit.pseudonymisation.key_env');
    expect(issue(() => build({ key_file: keyFile('short', 'tooshort', 0o600) })).message).toContain('at least 16');
  });

  it('is not needed when pseudonymisation is disabled', () => {
    expect(build({ enabled: false })).toBeDefined();
  });
});

describe('replaceDelimited', () => {
  it('replaces whole values only', () => {
    expect(replaceDelimited('1.2.3.4 - 11.2.3.45 - x1.2.3.4 - 1.2.3.4:80 - [1.2.3.4]', '1.2.3.4', 'P')).toBe('P - 11.2.3.45 - x1.2.3.4 - P:80 - [P]');
    expect(replaceDelimited('bob bobby @bob bob.smith bob.', 'bob', 'P')).toBe('P bobby @P bob.smith P.');
    expect(replaceDelimited('nothing here', 'bob', 'P')).toBe('nothing here');
    expect(replaceDelimited('aaa', '', 'P')).toBe('aaa');
  });
});

describe('pseudonymisation key rotation', () => {
  const OLD = 'old-key-0123456789abcdef-rotate-me';
  const NEW = 'new-key-fedcba9876543210-rotated';
  const rotEnv = { VIGIL_KEY: NEW, VIGIL_KEY_OLD: OLD, VIGIL_KEY_BEFORE: OLD };
  const T = Date.parse('2026-03-01T00:00:00Z');
  const proc = (p: object, now = T, logger = pino({ level: 'silent' })) =>
    createAuditProcessor(auditConfigSchema.parse({ pseudonymisation: p }), 'audit', logger, new Telemetry({ processMetrics: false }), { env: rotEnv, clock: () => now });
  const enrich = (p: object, now = T, attrs: KeyValue[] = []) => {
    const r = record(JSON.stringify({ user: 'alice', session_id: 's-1', ip: '83.149.9.216', method: 'GET', path: '/', status: 200 }), attrs);
    proc(p, now).process([r]);
    return attrsOf(r);
  };

  it('during the overlap, each pseudonym is joined by its pseudonym under the previous key, so old and new records link', () => {
    const before = enrich({ key_env: 'VIGIL_KEY_BEFORE' }); // records written before the rotation
    const during = enrich({ key_env: 'VIGIL_KEY', previous_key_env: 'VIGIL_KEY_OLD', previous_until: '2026-06-01' });
    for (const k of ['user.id', 'session.id', 'client.address']) {
      expect(during[k]).toMatch(/^ps_/);
      expect(during[k]).not.toBe(before[k]);
      expect(during[`vigil.previous_pseudonym.${k}`]).toBe(before[k]);
    }
    // A value the sender set as an attribute links the same way.
    const sent = enrich({ key_env: 'VIGIL_KEY', previous_key_env: 'VIGIL_KEY_OLD', previous_until: '2026-06-01', attributes: ['user.id', 'tenant.id'] }, T, [
      { key: 'tenant.id', value: { stringValue: 'acme' } },
    ]);
    const sentBefore = enrich({ key_env: 'VIGIL_KEY_BEFORE', attributes: ['user.id', 'tenant.id'] }, T, [{ key: 'tenant.id', value: { stringValue: 'acme' } }]);
    expect(sent['vigil.previous_pseudonym.tenant.id']).toBe(sentBefore['tenant.id']);
    expect(sent['tenant.id']).not.toBe(sentBefore['tenant.id']);
  });

  it('after previous_until the previous key is no longer used; truncated IPs need no link', () => {
    const after = enrich({ key_env: 'VIGIL_KEY', previous_key_env: 'VIGIL_KEY_OLD', previous_until: '2026-06-01' }, Date.parse('2026-06-01T00:00:00Z'));
    expect(Object.keys(after).filter((k) => k.startsWith('vigil.previous_pseudonym.'))).toEqual([]);
    const truncated = enrich({ key_env: 'VIGIL_KEY', previous_key_env: 'VIGIL_KEY_OLD', previous_until: '2026-06-01', ip_truncation: { ipv4: 24, ipv6: 48 } });
    expect(truncated['client.address']).toBe('83.149.9.0');
    expect(truncated['vigil.previous_pseudonym.client.address']).toBeUndefined();
    expect(truncated['vigil.previous_pseudonym.user.id']).toMatch(/^ps_/);
  });

  it('config: the previous key needs previous_until, is checked like the key, and never logged', () => {
    const problems = (p: object) => {
      const r = auditConfigSchema.safeParse({ pseudonymisation: p });
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(problems({ key_env: 'VIGIL_KEY', previous_key_env: 'VIGIL_KEY_OLD' })).toEqual([expect.stringMatching(/^pseudonymisation\.previous_until: a previous key needs previous_until/)]);
    expect(problems({ key_env: 'VIGIL_KEY', previous_until: '2026-06-01' })).toEqual([expect.stringMatching(/previous_until is used only with previous_key_file/)]);
    try {
      proc({ key_env: 'VIGIL_KEY', previous_key_env: 'VIGIL_NONE', previous_until: '2026-06-01' });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).issues[0].path).toBe('processors.audit.pseudonymisation.previous_key_env');
    }
    let logged = '';
    const p = proc({ key_env: 'VIGIL_KEY', previous_key_env: 'VIGIL_KEY_OLD', previous_until: '2026-06-01' }, T, pino({ level: 'trace' }, { write: (s: string) => (logged += s) }));
    p.process([record(LINE)]);
    expect(logged).toContain('"previous_key":"env VIGIL_KEY_OLD"');
    for (const k of [OLD, NEW]) for (const s of [k, Buffer.from(k).toString('hex'), Buffer.from(k).toString('base64')]) expect(logged).not.toContain(s);
    expect(JSON.stringify(p.settings)).not.toContain(OLD);
  });
});
