// The archive and its verifier under fuzzing: a real archive mutated on a copy
// per case (bytes flipped, cut, inserted; files deleted, swapped, copied over;
// records rewritten with the chain recomputed; garbage appended; stray files,
// directories and links planted) is never reported intact when a sealed
// segment, a manifest or a checkpointed open segment changed, and never makes
// verify throw; the line, manifest and encrypted-file parsers refuse what they
// cannot read with their own errors; only checkpoint texts exactly as signed verify.
import { describe, expect, it } from 'vitest';
import { checkCheckpointText, checkEntryDecode } from '../../src/fuzz/archive-targets.js';
import { Violation } from '../../src/fuzz/contracts.js';
import { fuzz, fuzzAsync } from './helpers.js';

const FIELDS = {
  archive: 'a1',
  segment: 3,
  state: 'sealed' as const,
  entries: 60,
  records: 100,
  head: 'b'.repeat(64),
  manifest: undefined,
  time: '2026-03-01T09:01:00.000Z',
};

describe('archive fuzzing', () => {
  it('verify never reports a mutated archive intact, nor throws (300 cases)', { timeout: 300_000 }, async () => {
    const r = await fuzzAsync('archive.verify-mutated', 300);
    expect(r.outcomes.refused).toBeGreaterThan(150); // mutations caught as breaks (240 at this seed)
    expect(r.outcomes.accepted).toBeGreaterThan(20); // untouched copies and mutations outside what is signed (60)
  });

  it('the line, manifest and encrypted-file parsers refuse garbage with their own errors (400 cases)', () => {
    const r = fuzz('archive.entry-decode', 400);
    expect(r.outcomes.accepted).toBeGreaterThan(20);
    expect(r.outcomes.refused).toBeGreaterThan(200);
  });

  it('only checkpoint texts exactly as signed verify (300 cases)', () => {
    const r = fuzz('archive.checkpoint-parse', 300);
    expect(r.outcomes.accepted).toBeGreaterThan(20); // valid texts that verify
    expect(r.outcomes.partial).toBeGreaterThan(50); // altered texts that parse and are refused by the signature check
    expect(r.outcomes.refused).toBeGreaterThan(50); // altered texts that do not parse
  });

  it('the checks catch what they are for', () => {
    expect(checkCheckpointText([FIELDS, { op: 'none', pad: '\n' }])).toBe('accepted');
    expect(checkCheckpointText([FIELDS, { op: 'resign-other' }])).toBe('partial');
    expect(checkCheckpointText([FIELDS, { op: 'other-key' }])).toBe('partial');
    // Found by `npm run fuzz -- --target archive.checkpoint-parse --seed 3`: a leading zero parsed to the same number, and the signature
    // (checked over the re-rendered text) verified a text other than the signed one.
    expect(checkCheckpointText([FIELDS, { op: 'field', field: 4, value: '0100' }])).toBe('partial');
    expect(() => checkEntryDecode(Buffer.from('{"hash":"'))).not.toThrow(Violation);
  });
});
