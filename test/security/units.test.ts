// The pure parts of src/security: loopback detection, redaction of env values
// in config errors and of credentials in URLs, and noticing file changes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLoopbackHost, warnIfExposed } from '../../src/security/loopback.js';
import { FileWatcher } from '../../src/security/file-watch.js';
import { redactIssues, redactUrl, referencedEnvValues } from '../../src/security/redact.js';
import { tempDir } from '../helpers/tmp.js';
import { logLines } from './harness.js';

describe('isLoopbackHost', () => {
  it('is true only for addresses reachable from this machine alone', () => {
    for (const h of ['127.0.0.1', '127.8.9.10', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST', 'vigil.localhost']) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
    for (const h of ['0.0.0.0', '::', '', '10.0.0.1', '192.168.1.2', '::ffff:10.0.0.1', 'vigil.internal', 'localhost.example.com', '128.0.0.1']) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });

  it('warns for an exposed server, naming what is missing and the keys that fix it', () => {
    const log = logLines();
    expect(warnIfExposed(log.logger, 'receivers.otlp.protocols.http', '127.0.0.1:4318', { tls: false, auth: false })).toBe(false);
    expect(warnIfExposed(log.logger, 'receivers.otlp.protocols.http', '0.0.0.0:4318', { tls: true, auth: true })).toBe(false);
    expect(warnIfExposed(log.logger, 'receivers.otlp.protocols.http', ':4318', { tls: true, auth: false })).toBe(true);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0].msg).toBe(
      'receivers.otlp.protocols.http listens on a non-loopback address: anyone who can reach :4318 can use it. Set receivers.otlp.protocols.http.auth, or bind to 127.0.0.1',
    );
  });
});

describe('redaction', () => {
  const env = { TOKEN: 'a-very-secret-token-value', PORT: '4317', QUOTED: 'se"cret\\value-long' };

  it('finds the long env values a raw config refers to (however nested), not the short ones', () => {
    const raw = { a: { b: ['x${env:TOKEN}y', { c: '${env:PORT}' }] }, d: '${env:QUOTED:-fallback}', e: '${env:UNSET}' };
    expect(referencedEnvValues(raw, env)).toEqual(
      new Map([
        ['a-very-secret-token-value', '${env:TOKEN}'],
        ['se"cret\\value-long', '${env:QUOTED}'],
      ]),
    );
  });

  it('replaces them in messages, also as they appear inside JSON quotes', () => {
    const values = referencedEnvValues({ a: '${env:TOKEN}', b: '${env:QUOTED}' }, env);
    const out = redactIssues(
      [
        { path: 'x.timeout', message: 'invalid duration "a-very-secret-token-value": use 5s' },
        { path: 'x.other', message: `bad value ${JSON.stringify(env.QUOTED)}` },
      ],
      values,
    );
    expect(out).toEqual([
      { path: 'x.timeout', message: 'invalid duration "${env:TOKEN}": use 5s' },
      { path: 'x.other', message: 'bad value "${env:QUOTED}"' },
    ]);
  });

  it('masks credentials and query values in URLs', () => {
    expect(redactUrl(new URL('https://user:pa55@collector.example:4318/v1/logs?api_key=k3y&x=1'))).toBe(
      'https://***:***@collector.example:4318/v1/logs?api_key=***&x=***',
    );
    expect(redactUrl(new URL('http://127.0.0.1:4318/v1/logs'))).toBe('http://127.0.0.1:4318/v1/logs');
  });
});

const dir = tempDir('vigil-watch-');

describe('FileWatcher', () => {
  it('fires once per change of any watched file, and tries again after a failed reaction', async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    writeFileSync(a, '1');
    writeFileSync(b, '1');
    let calls = 0;
    let fail = false;
    const w = new FileWatcher([a, b], 0, () => {
      calls++;
      if (fail) throw new Error('not yet');
    });
    await w.start();
    expect(await w.check()).toBe(false);
    writeFileSync(b, '22');
    expect(await w.check()).toBe(true);
    expect(await w.check()).toBe(false);
    expect(calls).toBe(1);
    fail = true;
    writeFileSync(a, '333');
    await expect(w.check()).rejects.toThrow('not yet');
    fail = false;
    expect(await w.check()).toBe(true); // no new change, but the last reaction failed: it looks again
    expect(calls).toBe(3);
    w.stop();
  });
});
