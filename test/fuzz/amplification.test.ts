// Amplification under fuzzing: the receivers' record count before decoding
// agrees with the decoders (protobuf exactly, JSON never fewer), records per
// byte are bounded, and no gzip / deflate / zstd input, bombs included,
// decompresses past the body limit.
import { describe, expect, it } from 'vitest';
import { checkDecompression, checkJsonCount, checkProtobufCount, DECOMPRESS_LIMIT } from '../../src/fuzz/amplification-targets.js';
import { Violation } from '../../src/fuzz/contracts.js';
import { fuzz } from './helpers.js';

describe('amplification fuzzing', () => {
  it('counts protobuf records on the wire exactly as the decoder does (400 cases)', () => {
    const r = fuzz('amplification.protobuf', 400);
    expect(r.outcomes.accepted).toBeGreaterThan(50);
    expect(r.outcomes.refused).toBeGreaterThan(20);
  });

  it('never counts fewer OTLP/JSON records than the request holds (400 cases)', () => {
    const r = fuzz('amplification.json', 400);
    expect(r.outcomes.accepted).toBeGreaterThan(50);
  });

  it('bounds decompressed bodies by the limit whatever the ratio (200 cases)', () => {
    const r = fuzz('amplification.compression', 200);
    expect(r.outcomes.accepted).toBeGreaterThan(20);
    expect(r.outcomes.refused).toBeGreaterThan(20);
  });

  it('the checks catch what they are for', () => {
    // An escaped key is still logRecords to JSON.parse: the count must see those records too.
    expect(checkJsonCount('{"resourceLogs":[{"scopeLogs":[{"log\\u0052ecords":[{},{},{}]}]}]}')).toBe('accepted');
    // A zstd bomb: 40× the limit of zeros, refused as too large, never decompressed whole.
    expect(checkDecompression({ coding: 'zstd', payload: new Uint8Array(40 * DECOMPRESS_LIMIT), twice: false, truncate: 0 })).toBe('refused');
    // Nested: only the one Content-Encoding layer is decoded; the inner bomb stays a small compressed blob.
    expect(checkDecompression({ coding: 'gzip', payload: new Uint8Array(40 * DECOMPRESS_LIMIT), twice: true, truncate: 0 })).toBe('accepted');
    // A group before the records: skipped by the decoder, so by the count too.
    const group = Uint8Array.of(0x0a, 0x08, 0x12, 0x06, 0x1b, 0x08, 0x01, 0x1c, 0x12, 0x00);
    expect(checkProtobufCount(group)).toBe('accepted');
    expect(() => checkProtobufCount(Uint8Array.of(0x0a, 0x02, 0x12, 0x00, 0x0a, 0x02, 0x12, 0x00).subarray(0, 4))).not.toThrow(Violation);
    // Found by `npm run fuzz -- --seed 7`: a 12-byte varint value before the records. protobufjs skips
    // varint values of any length (tags and lengths: 10 bytes at most); the count once stopped there and saw none.
    const overlong = Buffer.from('08ffffffffffffffffffffff010a280a0012240a0012202a020a004a100000000000000000000000000000000052080000000000000000', 'hex');
    expect(checkProtobufCount(overlong)).toBe('accepted');
  });
});
