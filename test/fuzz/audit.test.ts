// The audit processor's body parsers under fuzzing: any CLF-ish line, JSON text
// or AnyValue body is answered (parsed, partly parsed or left unparsed), never
// with an exception, and the fields they extract have the right types.
import { describe, expect, it } from 'vitest';
import { fuzz } from './helpers.js';

describe('audit body parser fuzzing', () => {
  it('parses or declines CLF/Combined lines, mutated and repetitive ones included (500 cases)', () => {
    const r = fuzz('audit.clf', 500);
    expect(r.outcomes.accepted).toBeGreaterThanOrEqual(40); // well-formed lines do parse fully (54 at this seed)
    expect(r.outcomes.refused).toBeGreaterThan(20);
  });

  // Minimums of fully parsed inputs: a generator that stopped producing complete records
  // would leave the parsers' main path unfuzzed while every case still "passed".
  it('parses or declines JSON access-log texts with hostile values (400 cases)', () => {
    const r = fuzz('audit.json', 400);
    expect(r.outcomes.accepted).toBeGreaterThanOrEqual(40); // 68 at this seed
    expect(r.outcomes.partial).toBeGreaterThanOrEqual(40);
    expect(r.outcomes.refused).toBeGreaterThanOrEqual(40);
  });

  it('answers any AnyValue body: text, kvlist, arrays, bytes, nothing (400 cases)', () => {
    const r = fuzz('audit.body', 400);
    expect(r.outcomes.accepted).toBeGreaterThanOrEqual(20); // 36 at this seed
    expect(r.outcomes.refused).toBeGreaterThanOrEqual(10);
  });
});
