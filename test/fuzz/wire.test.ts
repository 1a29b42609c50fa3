// The wire path under fuzzing: the wire decoder agrees with protobufjs's, and
// splicing means the same as encoding from the objects (src/fuzz/wire-targets.ts).
import { describe, expect, it } from 'vitest';
import { fuzz } from './helpers.js';

describe('wire path fuzzing', () => {
  it('the wire decoder decodes exactly as protobufjs does, or both refuse (1,500 cases)', () => {
    const r = fuzz('wire.decode', 1500);
    expect(r.outcomes.accepted).toBeGreaterThan(300);
    expect(r.outcomes.refused).toBeGreaterThan(100);
    expect(r.outcomes.partial).toBeGreaterThan(20);
  });

  it('spliced encodings read back as the object encodings of the same records (1,500 cases)', () => {
    const r = fuzz('wire.splice', 1500);
    expect(r.outcomes.accepted).toBeGreaterThan(300);
  });

  it('records left undecoded, appended to and encoded, are the records read first and protobufjs\'s (1,000 cases)', () => {
    const r = fuzz('wire.lazy', 1000);
    expect(r.outcomes.accepted).toBeGreaterThan(200);
    expect(r.outcomes.refused).toBeGreaterThan(50);
  });

  it("a fan-out's copies read and encode as the records they copy, and changes to them stay theirs (1,000 cases)", () => {
    const r = fuzz('wire.copy', 1000);
    expect(r.outcomes.accepted).toBeGreaterThan(200);
  });
});
