// A known-answer vector for audit.record_id: the canonical text written out by
// hand from the format in src/processors/audit/record-id.ts, hashed here with
// node:crypto, and the resulting id pinned as a literal. Any change to the
// canonical form or the hash changes every archived id, and fails here first.
import { createHash } from 'node:crypto';
import Long from 'long';
import { describe, expect, it } from 'vitest';
import type { VigilRecord } from '../../../src/pipeline/record.js';
import { canonicalRecord, recordIds } from '../../../src/processors/audit/record-id.js';
import { attrsOf, auditProcessor } from './helpers.js';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

function vector(): VigilRecord {
  return {
    resource: { resource: { attributes: [{ key: 'service.name', value: { stringValue: 'web' } }] }, schemaUrl: '' },
    scope: { scope: { name: 'test' }, schemaUrl: '' },
    log: {
      timeUnixNano: Long.fromString('1700000000000000000', true),
      observedTimeUnixNano: Long.UZERO,
      severityNumber: 9,
      severityText: 'INFO',
      body: { stringValue: 'GET /' },
      attributes: [{ key: 'user.id', value: { stringValue: 'alice' } }],
    },
  };
}

// Length-prefixed strings (`5:alice`), typed values (`s…`), counts and `;` separators, in protobuf field order.
const RESOURCE = 'R1{12:service.names3:web}0;;0:';
const SCOPE = 'S4:test0:0{}0;0:';
const LOG = 'L1700000000000000000;0;9;4:INFOs5:GET /1{7:user.ids5:alice}0;0;;;0:';
const CANONICAL = sha256(RESOURCE) + sha256(SCOPE) + LOG;
const ID = 'cc674ed29b556cec65872c67757790af'; // also computed with Python's hashlib from the same text

describe('audit.record_id known-answer vector', () => {
  it('the canonical text is the documented serialisation', () => {
    expect(canonicalRecord(vector())).toBe(CANONICAL);
  });

  it('the id is the first 128 bits of its SHA-256, pinned', () => {
    expect(sha256(CANONICAL).slice(0, 32)).toBe(ID);
    expect(recordIds([vector()])).toEqual([ID]);
    // The second identical record in a batch hashes with "#1".
    expect(recordIds([vector(), vector()])).toEqual([ID, sha256(`${CANONICAL}#1`).slice(0, 32)]);
  });

  it('is what the audit processor writes', () => {
    const rec = vector();
    auditProcessor().process([rec]);
    expect(attrsOf(rec)['audit.record_id']).toBe(ID);
  });
});
