// Property tests: whatever a sender puts in a record, the audit processor does
// not throw, keeps the body, and what it leaves obeys the limits.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseClf } from '../../../src/processors/audit/clf.js';
import { millisToNanosLong } from '../../../src/processors/audit/fields.js';
import type { AnyValue, KeyValue } from '../../../src/pipeline/record.js';
import { millisToNanos } from '../../../src/pipeline/record.js';
import { auditProcessor, record } from './helpers.js';

const LIMITS = { max_value_length: 64, max_attributes: 16, max_depth: 2 };
/** Attributes Vigil itself may add on top of the sender's (capped) ones. */
const VIGIL_ATTRIBUTES = 40;
const processor = auditProcessor({ limits: LIMITS, environment: 'prop' });

/** Strings with the awkward parts: NUL, lone surrogates, quotes, brackets, digits, CLF-looking pieces. */
const nasty = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.constantFrom('\u0000', '\uD800', '\uDFFF', '"', '\\"', '[', ']', '-', ' ', '{', '}', '[01/Jan/2024:00:00:00 +0000]', '"GET / HTTP/1.1" 200 1', '1.2.3.4 - - '),
);
const textBody = fc.array(nasty, { maxLength: 12 }).map((parts) => parts.join(''));

const anyValue: fc.Arbitrary<AnyValue> = fc.letrec<{ v: AnyValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    nasty.map((s) => ({ stringValue: s })),
    fc.integer().map((n) => ({ intValue: n })),
    fc.double().map((d) => ({ doubleValue: d })),
    fc.boolean().map((b) => ({ boolValue: b })),
    fc.uint8Array({ maxLength: 100 }).map((b) => ({ bytesValue: b })),
    fc.constant({}),
    fc.array(tie('v'), { maxLength: 5 }).map((values) => ({ arrayValue: { values } })),
    fc.array(fc.record({ key: nasty, value: tie('v') }), { maxLength: 5 }).map((values) => ({ kvlistValue: { values } })),
  ),
})).v;

const attributes: fc.Arbitrary<KeyValue[]> = fc.array(
  fc.record({
    key: fc.oneof(nasty, fc.constantFrom('http.request.method', 'url.path', 'client.address', 'user.id', 'http.response.status_code', 'audit.record_id', 'audit.schema_version')),
    value: anyValue,
  }),
  { maxLength: 30 },
);

function depth(v: AnyValue | null | undefined): number {
  if (v?.arrayValue) return 1 + Math.max(0, ...v.arrayValue.values.map(depth));
  if (v?.kvlistValue) return 1 + Math.max(0, ...v.kvlistValue.values.map((kv) => depth(kv.value)));
  return 0;
}

function checkLimits(attrs: KeyValue[]): void {
  expect(attrs.length).toBeLessThanOrEqual(LIMITS.max_attributes + VIGIL_ATTRIBUTES);
  const strings: string[] = [];
  const walk = (v: AnyValue | null | undefined) => {
    if (v == null) return;
    if (typeof v.stringValue === 'string') strings.push(v.stringValue);
    v.arrayValue?.values.forEach(walk);
    v.kvlistValue?.values.forEach((kv) => {
      strings.push(kv.key);
      walk(kv.value);
    });
  };
  for (const kv of attrs) {
    walk(kv.value);
    expect(depth(kv.value)).toBeLessThanOrEqual(LIMITS.max_depth);
    expect(kv.key.length).toBeLessThanOrEqual(256);
  }
  for (const s of strings) {
    expect(s.length).toBeLessThanOrEqual(LIMITS.max_value_length);
    expect(s.includes('\u0000')).toBe(false);
    expect((s as unknown as { isWellFormed(): boolean }).isWellFormed()).toBe(true);
  }
}

describe('audit processor properties', () => {
  it('any text body: no throw, body kept, one parse status, limits obeyed', () => {
    fc.assert(
      fc.property(textBody, (body) => {
        const r = record(body);
        processor.process([r]);
        const wellFormed = (body as unknown as { toWellFormed(): string }).toWellFormed();
        expect(r.log.body).toEqual({ stringValue: wellFormed });
        const status = r.log.attributes.filter((a) => a.key === 'audit.parse_status');
        expect(status).toHaveLength(1);
        expect(['ok', 'partial', 'unparsed']).toContain(status[0].value?.stringValue);
        checkLimits(r.log.attributes);
      }),
      { numRuns: 1500 },
    );
  });

  it('any AnyValue body and any attributes: no throw, limits obeyed', () => {
    fc.assert(
      fc.property(fc.option(anyValue, { nil: undefined }), attributes, (body, attrs) => {
        // The processor works in place: give it copies, so that fast-check can still shrink what it generated.
        const r = record(structuredClone(body), structuredClone(attrs));
        processor.process([r]);
        checkLimits(r.log.attributes);
        expect(r.log.attributes.filter((a) => a.key === 'audit.record_id')).toHaveLength(1);
      }),
      { numRuns: 800 },
    );
  });

  it('any batch: one distinct record id per record', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', '1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1'), { maxLength: 30 }), (bodies) => {
        const batch = bodies.map((b) => record(b));
        processor.process(batch);
        const ids = batch.map((r) => r.log.attributes.find((a) => a.key === 'audit.record_id')!.value!.stringValue);
        expect(new Set(ids).size).toBe(batch.length);
      }),
      { numRuns: 200 },
    );
  });
});

describe('CLF parser properties', () => {
  const token = fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/).filter((s) => s !== '-');
  const field = fc.stringMatching(/^[^"\\\r\n]{0,40}$/).filter((s) => s.trim() === s && s !== '-');

  it('reads back every field of a well-formed Combined line', () => {
    fc.assert(
      fc.property(
        fc.ipV4(),
        fc.option(token, { nil: undefined }),
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD'),
        fc.array(token, { minLength: 1, maxLength: 5 }).map((s) => `/${s.join('/')}`),
        fc.integer({ min: 100, max: 599 }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.date({ min: new Date('1990-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
        fc.integer({ min: -12 * 60, max: 14 * 60 }),
        field,
        field,
        (ip, user, method, path, status, size, date, offsetMin, referer, ua) => {
          const t = Math.floor(date.getTime() / 1000) * 1000;
          const local = new Date(t + offsetMin * 60_000);
          const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
          const p2 = (n: number) => String(n).padStart(2, '0');
          const off = `${offsetMin < 0 ? '-' : '+'}${p2(Math.floor(Math.abs(offsetMin) / 60))}${p2(Math.abs(offsetMin) % 60)}`;
          const time = `${p2(local.getUTCDate())}/${months[local.getUTCMonth()]}/${local.getUTCFullYear()}:${p2(local.getUTCHours())}:${p2(local.getUTCMinutes())}:${p2(local.getUTCSeconds())} ${off}`;
          const line = `${ip} - ${user ?? '-'} [${time}] "${method} ${path} HTTP/1.1" ${status} ${size ?? '-'} "${referer || '-'}" "${ua || '-'}"`;
          const r = parseClf(line)!;
          expect(r.status).toBe('ok');
          expect(r.fields).toMatchObject({ client: ip, method, path, status, size: size ?? 0, timeMs: t });
          expect(r.fields.user).toBe(user);
          expect(r.fields.referer).toBe(referer || undefined);
          expect(r.fields.userAgent).toBe(ua || undefined);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('64-bit time conversion', () => {
  it('millisToNanosLong agrees with the core millisToNanos', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1.8e13, noNaN: true }), (ms) => {
        expect(millisToNanosLong(ms).toString()).toBe(millisToNanos(ms).toString());
      }),
      { numRuns: 5000 },
    );
  });
});

describe('route patterns', () => {
  it('the combined regular expression matches exactly when one pattern matches', async () => {
    const { matchesRoute, routesRegex } = await import('../../../src/processors/audit/rules.js');
    const seg = fc.constantFrom('login', 'signin', 'a', 'x.y', 'oauth', 'token', 'session', 'sessions', 'wp-login.php', '(', '*', '[', '+');
    const path = fc.array(fc.oneof(seg, fc.constantFrom('/', '.', '?', ';', '-')), { maxLength: 8 }).map((p) => `/${p.join('')}`);
    const patterns = fc.array(fc.array(seg, { minLength: 1, maxLength: 2 }).map((p) => `/${p.join('/')}`), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(path, patterns, (p, ps) => {
        expect(routesRegex(ps)!.test(p)).toBe(ps.some((x) => matchesRoute(p, x)));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('id-like path segments', () => {
  it('isIdSegment agrees with its definition as a regular expression', async () => {
    const { isIdSegment } = await import('../../../src/processors/audit/rules.js');
    const definition = /^(?:\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{16,}|(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{20,}|[^@/]+@[^@/]+\.[^@/]+)$/;
    const segment = fc.oneof(
      fc.stringMatching(/^[0-9a-fA-F@.gz_-]{1,40}$/),
      fc.uuid(),
      fc.emailAddress(),
      fc.stringMatching(/^[0-9]{1,20}$/),
      fc.stringMatching(/^[A-Za-z0-9]{18,24}$/),
    ).filter((seg) => !seg.includes('/'));
    fc.assert(
      fc.property(segment, fc.string({ maxLength: 3 }), (seg, pad) => {
        const s = `${pad}/${seg}/${pad}`;
        const start = pad.length + 1;
        expect(isIdSegment(s, start, start + seg.length)).toBe(definition.test(seg));
      }),
      { numRuns: 5000 },
    );
  });
});
