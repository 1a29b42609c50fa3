// The record API (src/pipeline/record.ts): the AnyValue oneof, 64-bit integer
// text, typed accessors and explicit attribute edits; and the audit.record_id
// of a request using every field and kind, pinned so that moving the oneof and
// int64 handling into one module cannot change a single id.
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { requestToBatch } from '../../src/otlp/convert.js';
import {
  anyValueKind,
  appendAttribute,
  boolAttribute,
  bodyText,
  dropAttribute,
  int64Text,
  intAttribute,
  millisToNanos,
  nanosToMillis,
  numberAttribute,
  observedTimeMillis,
  replaceAttribute,
  severityOf,
  sharedAttribute,
  spanIdHex,
  stringAttribute,
  timeMillis,
  traceIdHex,
} from '../../src/pipeline/record.js';
import { recordIds } from '../../src/processors/audit/record-id.js';
import { kv, makeRecord } from '../helpers/records.js';
import { fullRequest } from '../receivers/otlp/clients.js';

describe('the AnyValue oneof', () => {
  it('names the member held, the first in field order when a hand-built value has several', () => {
    expect(anyValueKind({ stringValue: '' })).toBe('string');
    expect(anyValueKind({ boolValue: false })).toBe('bool');
    expect(anyValueKind({ intValue: Long.ZERO })).toBe('int');
    expect(anyValueKind({ doubleValue: 0 })).toBe('double');
    expect(anyValueKind({ arrayValue: { values: [] } })).toBe('array');
    expect(anyValueKind({ kvlistValue: { values: [] } })).toBe('kvlist');
    expect(anyValueKind({ bytesValue: new Uint8Array() })).toBe('bytes');
    expect(anyValueKind({})).toBeUndefined();
    expect(anyValueKind(null)).toBeUndefined();
    expect(anyValueKind({ intValue: 1, stringValue: 'x' })).toBe('string');
    // Inherited defaults (a protobufjs prototype) are not members.
    expect(anyValueKind(Object.create({ stringValue: 'inherited' }))).toBeUndefined();
  });
});

describe('int64Text', () => {
  it('writes every representation of a 64-bit integer as exact decimal', () => {
    expect(int64Text(Long.fromString('18446744073709551615', true), true)).toBe('18446744073709551615');
    expect(int64Text(Long.fromString('-9223372036854775808'), false)).toBe('-9223372036854775808');
    expect(int64Text(Long.fromString('-1'), true)).toBe('18446744073709551615');
    expect(int64Text(2 ** 60, false)).toBe('1152921504606846976');
    expect(int64Text(-3.7, false)).toBe('-3');
    expect(int64Text(-3.7, true)).toBe('0');
    expect(int64Text(Number.NaN, false)).toBe('0');
    expect(int64Text('777', true)).toBe('777');
    expect(int64Text('', true)).toBe('0');
    expect(int64Text(undefined, false)).toBe('0');
  });
});

describe('nanosToMillis', () => {
  it('is exact: whole milliseconds come back unchanged, any nanosecond count floors as BigInt does', () => {
    // Whole seconds and minutes included: a third of them once came back 1 ms early.
    for (let ms = Date.UTC(2026, 0, 1); ms < Date.UTC(2026, 0, 1) + 3 * 86_400_000; ms += 59_999) expect(nanosToMillis(millisToNanos(ms))).toBe(ms);
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) | 0);
    for (let i = 0; i < 20_000; i++) {
      const v = Long.fromBits(next(), next(), true);
      expect(nanosToMillis(v)).toBe(Number(BigInt(v.toString()) / 1_000_000n));
    }
  });
});

describe('typed accessors', () => {
  const rec = makeRecord({ attrs: { s: 'text', i: 42, d: 2.5, b: true }, timeMs: Date.UTC(2026, 0, 2) });
  rec.log.attributes.push({ key: 'big', value: { intValue: Long.fromString('9007199254740993') } });
  const attrs = rec.log.attributes;

  it('read an attribute only as the kind it holds', () => {
    expect(stringAttribute(attrs, 's')).toBe('text');
    expect(stringAttribute(attrs, 'i')).toBeUndefined();
    expect(intAttribute(attrs, 'i')).toBe(42);
    expect(intAttribute(attrs, 'd')).toBeUndefined();
    expect(intAttribute(attrs, 'big')).toBeUndefined(); // not exactly representable
    expect(numberAttribute(attrs, 'd')).toBe(2.5);
    expect(numberAttribute(attrs, 'i')).toBe(42);
    expect(boolAttribute(attrs, 'b')).toBe(true);
    expect(boolAttribute(attrs, 's')).toBeUndefined();
    expect(stringAttribute(attrs, 'absent')).toBeUndefined();
  });

  it('read times, severity, ids and the body', () => {
    expect(timeMillis(rec.log)).toBe(Date.UTC(2026, 0, 2));
    expect(observedTimeMillis(rec.log)).toBe(0);
    expect(severityOf(rec.log)).toEqual({ number: 9, text: 'INFO' });
    expect(bodyText(rec.log)).toBe('hello');
    expect(bodyText({ attributes: [], body: { kvlistValue: { values: [] } } })).toBeUndefined();
    expect(traceIdHex(rec.log)).toBe('');
    const full = requestToBatch(fullRequest()).records[0].log;
    expect(traceIdHex(full)).toBe('0102030405060708090a0b0c0d0e0f10');
    expect(spanIdHex(full)).toBe('a0a1a2a3a4a5a6a7');
  });
});

describe('attribute edits', () => {
  it('append, replace in place, and drop keeping the order of the rest', () => {
    const attrs = [kv('a', 1), kv('b', 2), kv('a', 3)];
    appendAttribute(attrs, sharedAttribute('c', 'x'));
    expect(attrs.map((a) => a.key)).toEqual(['a', 'b', 'a', 'c']);
    expect(Object.isFrozen(attrs[3])).toBe(true);

    expect(replaceAttribute(attrs, kv('b', 'two'))).toBe(true);
    expect(attrs.map((a) => a.key)).toEqual(['a', 'b', 'a', 'c']);
    expect(stringAttribute(attrs, 'b')).toBe('two');
    expect(replaceAttribute(attrs, kv('z', 1))).toBe(false);
    expect(attrs).toHaveLength(4);

    expect(dropAttribute(attrs, 'a')).toBe(2);
    expect(attrs.map((a) => a.key)).toEqual(['b', 'c']);
    expect(dropAttribute(attrs, 'a')).toBe(0);
  });
});

describe('audit.record_id', () => {
  it('is unchanged for a request with every field and kind (pinned ids)', () => {
    const batch = requestToBatch(fullRequest()).records;
    const extra = makeRecord({ attrs: { a: 5, b: -7, c: 2.5, d: true, e: 'x' } });
    extra.log.observedTimeUnixNano = Long.fromString('18446744073709551615', true);
    // Computed before the oneof and int64 handling moved into record.ts; the last two are one record sent twice.
    expect(recordIds([...batch, extra, extra])).toEqual([
      '23a8f23b7802774e3809bbe455a4ccca',
      '23c1ff79c9b6e0b48c745cc51b227fd8',
      '6ab977f4493df385549dddcd1fba8c58',
      'd11b579b316b2bfd32d107281693d750',
      'e6b52d9b613455dcfebdcd7793ef92af',
      '6797bb80926b22a6c484472e62a3ea12',
    ]);
  });
});
