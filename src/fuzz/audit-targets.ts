// Fuzz targets for the audit processor's body parsers (CLF/Combined, JSON text,
// kvlist and any AnyValue body). Their contract: never throw on any string or
// AnyValue; answer undefined (nothing to parse) or a parse whose status is
// ok | partial | unparsed and whose fields have the right types (finite
// numbers, strings). Inputs include long repetitive lines, so a regular
// expression with catastrophic backtracking shows up as a hang in the runner.
import fc from 'fast-check';
import { parseBody, parseText, type BodyOptions } from '../processors/audit/body.js';
import { parseClf } from '../processors/audit/clf.js';
import type { BodyParse } from '../processors/audit/fields.js';
import { parseJsonText } from '../processors/audit/json-body.js';
import type { AnyValue } from '../pipeline/record.js';
import { anyValue, hostileJsonValue, illFormedText, textMutation } from './arbitraries.js';
import { describeError, Violation, type Outcome } from './contracts.js';
import { applyTextMutation, serialise, type TextMutation } from './json-mutate.js';
import type { FuzzTarget } from './targets.js';

const STATUSES = new Set(['ok', 'partial', 'unparsed']);
const NUMERIC = new Set(['status', 'size', 'durationS', 'clientPort', 'serverPort', 'timeMs']);

/** The parsers' contract on one answer. */
export function checkBodyParse(what: string, parse: () => BodyParse | undefined): Outcome {
  let r: BodyParse | undefined;
  try {
    r = parse();
  } catch (err) {
    throw new Violation(`${what} threw: ${describeError(err)}`);
  }
  if (r === undefined) return 'refused';
  if (!STATUSES.has(r.status)) throw new Violation(`${what} answered status ${String(r.status)}`);
  if (r.fields === null || typeof r.fields !== 'object') throw new Violation(`${what} answered without fields`);
  for (const [k, v] of Object.entries(r.fields)) {
    if (v === undefined) continue;
    if (NUMERIC.has(k) ? typeof v !== 'number' || !Number.isFinite(v) : typeof v !== 'string') {
      throw new Violation(`${what} answered ${k} = ${JSON.stringify(v)} (${typeof v})`);
    }
  }
  if (r.issue !== undefined && typeof r.issue !== 'string') throw new Violation(`${what} answered a non-string issue`);
  return r.status === 'ok' ? 'accepted' : 'partial';
}

// ---- CLF / Combined lines ---------------------------------------------------------------

const pick = <T>(...xs: T[]) => fc.constantFrom(...xs);
const token = fc.string({ maxLength: 12 });

/** Mostly the common, valid form; sometimes an odd one. */
const usually = <T>(common: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: common }, { weight: 1, arbitrary: odd });

const clfTime = usually(
  fc
    .record({
      d: usually(fc.integer({ min: 1, max: 28 }), fc.integer({ min: 0, max: 39 })),
      mon: usually(pick('Jan', 'Feb', 'Mar', 'Jun', 'Dec'), pick('jan', 'Foo')),
      y: usually(fc.integer({ min: 1970, max: 2100 }), fc.integer({ min: 0, max: 9999 })),
      h: usually(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 99 })),
      mi: usually(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 99 })),
      s: usually(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 99 })),
      frac: usually(fc.constant(''), fc.stringMatching(/^[.,]\d{1,12}$/)),
      zone: usually(pick('+0000', '-0700', '+0530'), pick('+1400', '-9999', '+05:30', '0000')),
    })
    .map((t) => `[${String(t.d).padStart(2, '0')}/${t.mon}/${String(t.y).padStart(4, '0')}:${String(t.h).padStart(2, '0')}:${String(t.mi).padStart(2, '0')}:${String(t.s).padStart(2, '0')}${t.frac} ${t.zone}]`),
  token.map((t) => `[${t}]`),
);

const quoted = fc.oneof(
  fc.string({ maxLength: 24 }).map((s) => `"${s}"`),
  pick('"-"', '""', '"\\""', '"a\\"b"', '"unterminated', '"x" y"', '"\\x22"', '"\\\\"'),
);

const requestLine = usually(
  fc
    .tuple(
      usually(pick('GET', 'POST', 'PUT', 'DELETE'), pick('FOO', 'get', '', '-')),
      usually(pick('/', '/a?b=c', '/api/v1/users/42'), pick('/%zz', 'http://h:99999/p', '*', 'h:443', '//x', '')),
      usually(pick('HTTP/1.1', 'HTTP/2.0'), pick('HTTP/9', '', 'x')),
    )
    .map(([m, t, p]) => `"${[m, t, p].filter((x) => x !== '').join(' ')}"`),
  quoted,
);

const clfLine = fc
  .tuple(
    fc.option(pick('<13>Jan  1 00:00:00 host nginx: ', 'vhost.example:443 ', 'example.com '), { nil: '' }),
    usually(pick('127.0.0.1', '::1', '2001:db8::1', '10.1.2.3'), pick('[::1]:80', '999.1.1.1', '-', 'host.name', '')),
    pick('-', 'ident'),
    usually(pick('-', 'alice'), pick('a b', '"quoted"')),
    clfTime,
    requestLine,
    usually(pick('200', '404', '302', '500'), pick('599', '600', '099', '-', '2000', 'abc')),
    usually(pick('123', '-', '0'), pick('99999999999999999999', '-1')),
    fc.array(quoted, { maxLength: 3 }),
    fc.option(pick('0.123', '12', '1e3', '-0.5'), { nil: '' }),
  )
  .map(([prefix, ip, ident, user, time, req, status, size, extra, rt]) =>
    `${prefix}${ip} ${ident} ${user} ${time} ${req} ${status} ${size}${extra.map((e) => ` ${e}`).join('')}${rt ? ` ${rt}` : ''}`,
  );

/** Long repetitive lines: what makes a backtracking regular expression take forever. */
const repetitive = fc
  .tuple(pick('[', '"', ' ', '\\', '[01/Jan/2026:00:00:00 +0000', '"GET / HTTP/1.1" ', 'a', '\\"', '" "', '- '), fc.integer({ min: 100, max: 5000 }), fc.string({ maxLength: 8 }))
  .map(([unit, n, tail]) => `127.0.0.1 - - [01/Jan/2026:00:00:00 +0000] ${unit.repeat(n)}${tail}`);

export const clfText: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof({ weight: 8, arbitrary: clfLine }, repetitive, fc.string({ maxLength: 80 }), illFormedText),
    usually(fc.constant<TextMutation[]>([]), fc.array(textMutation, { minLength: 1, maxLength: 2 })),
  )
  .map(([line, ms]) => ms.reduce(applyTextMutation, line));

// ---- JSON bodies ------------------------------------------------------------------------

const ACCESS_KEYS = [
  'method', 'verb', 'request', 'path', 'uri', 'url', 'status', 'statusCode', 'status_code', 'size', 'bytes', 'body_bytes_sent',
  'user_agent', 'userAgent', 'user', 'user_id', 'client_ip', 'remote_addr', 'ip', 'time', 'timestamp', '@timestamp', 'ts',
  'session', 'route', 'protocol', 'host', 'referer', 'outcome', 'result', 'success', 'action', 'event', 'message', 'msg', 'log',
  'duration', 'latency', 'duration_ms', 'request_time', 'Duration', 'httpRequest', 'req', 'res', 'headers', 'User-Agent',
  'http.request.method', 'http.response.status_code', 'url.path', 'client.address', 'event.outcome', 'request.headers.User-Agent',
  '__proto__', 'constructor', 'hasOwnProperty', '',
];

const ACCESS_VALUES = fc.oneof(
  hostileJsonValue,
  pick<unknown>('GET', '/a/b?c=d', 200, '200', 404.5, '2026-01-01T00:00:00Z', '01/Jan/2026:00:00:00 +0000', 1767225600, 1767225600123456789,
    '1.5ms', '0.2s', '-1s', 'NaNs', '1e400', 'login', 'failure', true, 'GET /x HTTP/1.1', '127.0.0.1:8080', '[::1]:443', ['a', 'b']),
);

const accessObject: fc.Arbitrary<unknown> = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    ACCESS_VALUES,
    fc.dictionary(fc.constantFrom(...ACCESS_KEYS), tie('node'), { maxKeys: 6 }),
  ),
})).node;

/**
 * A well-formed access object (method, path, status under the names real servers use) with hostile
 * extras: without it random keys almost never make a complete record, and the fully-parsed path
 * would go unfuzzed.
 */
const wellFormedAccess: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    pick<[string, string, string]>(['method', 'path', 'status'], ['verb', 'uri', 'statusCode'], ['http.request.method', 'url.path', 'http.response.status_code']),
    pick('GET', 'POST', 'DELETE'),
    pick('/', '/login', '/api/orders/17?x=1'),
    pick<unknown>(200, 401, '404', 503),
    fc.dictionary(fc.constantFrom(...ACCESS_KEYS), accessObject, { maxKeys: 4 }),
  )
  .map(([[m, p, st], method, path, status, extra]) => ({ ...extra, [m]: method, [p]: path, [st]: status }));

export const jsonBodyText: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof({ weight: 3, arbitrary: fc.dictionary(fc.constantFrom(...ACCESS_KEYS), accessObject, { maxKeys: 8 }) }, { weight: 1, arbitrary: wellFormedAccess }),
    fc.array(textMutation, { maxLength: 1 }),
  )
  .map(([o, ms]) => ms.reduce(applyTextMutation, serialise(o)));

// ---- AnyValue bodies ------------------------------------------------------------------------

/** A JSON access object as the kvlist body a structured logger (pino) would send. */
function toAnyValue(v: unknown, depth = 0): AnyValue {
  if (depth > 8) return {};
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isSafeInteger(v) ? { intValue: v } : { doubleValue: v };
  if (typeof v === 'bigint') return { stringValue: v.toString() };
  if (Array.isArray(v)) return { arrayValue: { values: v.map((e) => toAnyValue(e, depth + 1)) } };
  if (v !== null && typeof v === 'object') {
    return { kvlistValue: { values: Object.entries(v).map(([key, e]) => ({ key, value: toAnyValue(e, depth + 1) })) } };
  }
  return {};
}

export const bodyValue: fc.Arbitrary<AnyValue> = fc.oneof(
  anyValue,
  clfText.map((s) => ({ stringValue: s })),
  jsonBodyText.map((s) => ({ stringValue: s })),
  fc.dictionary(fc.constantFrom(...ACCESS_KEYS), accessObject, { maxKeys: 8 }).map((o) => toAnyValue(o)),
);

const OPTIONS: BodyOptions = { maxParseLength: 16 * 1024, durationUnit: 's' };

export function auditTargets(): FuzzTarget[] {
  const show = (s: unknown) => (typeof s === 'string' ? JSON.stringify(s).slice(0, 2000) : serialise(s).slice(0, 2000));
  return [
    { name: 'audit.clf', weight: 2, arbitrary: clfText, check: (s) => checkBodyParse('parseClf', () => parseClf(s as string)), show } as FuzzTarget,
    {
      name: 'audit.json',
      weight: 2,
      arbitrary: jsonBodyText,
      check: (s) => checkBodyParse('parseJsonText', () => parseJsonText(s as string, { durationUnit: 'ms' })),
      show,
    } as FuzzTarget,
    {
      name: 'audit.body',
      weight: 2,
      arbitrary: fc.tuple(bodyValue, pick<BodyOptions['durationUnit']>('ns', 'us', 'ms', 's')),
      check: (x) => {
        const [body, unit] = x as [AnyValue, BodyOptions['durationUnit']];
        const opts = { ...OPTIONS, durationUnit: unit };
        if (body.stringValue !== undefined) checkBodyParse('parseText', () => parseText(body.stringValue!, opts));
        return checkBodyParse('parseBody', () => parseBody(body, opts));
      },
      show: (x) => show((x as [AnyValue, string])[0]),
    } as FuzzTarget,
  ];
}
