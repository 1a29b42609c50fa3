// The status page recognises components by what they offer, not by class.
import { describe, expect, it } from 'vitest';
import { archiveStatusOf, isScoreSource } from '../../../src/telemetry/status/sources.js';

describe('status sources', () => {
  it('an exporter whose status() describes an archive is an archive; other status shapes and none are not', () => {
    const archive = { directory: '/a', archiveId: 'x', keyId: undefined, openSegment: undefined, lastSealAt: undefined, sealsPending: 0, s3: undefined };
    expect(archiveStatusOf({ status: () => archive })).toBe(archive);
    expect(archiveStatusOf({ status: () => ({ queueSize: 3 }) })).toBeUndefined();
    expect(archiveStatusOf({ status: () => null })).toBeUndefined();
    expect(archiveStatusOf({})).toBeUndefined();
  });

  it('a processor with an alert budget, learning keys and listeners is a score source, with or without a threshold override', () => {
    const source = { threshold: null, alertBudget: 1, learningKeys: () => [], addListener: () => () => undefined };
    expect(isScoreSource(source)).toBe(true);
    expect(isScoreSource({ ...source, threshold: 0.9 })).toBe(true);
    expect(isScoreSource({ threshold: 0.9, addListener: () => () => undefined })).toBe(false);
    expect(isScoreSource({ alertBudget: 1, learningKeys: () => [] })).toBe(false);
    expect(isScoreSource({ process: (b: unknown) => b })).toBe(false);
    expect(isScoreSource(null)).toBe(false);
  });
});
