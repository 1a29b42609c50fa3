// The config loader under fuzzing: any structure, any YAML text and any
// environment gives a config or a ConfigError whose issues name a key; valid
// configs load, in both their data and YAML forms.
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../src/components.js';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfigText, validateConfig } from '../../src/config/load.js';
import { fuzz } from './helpers.js';

const registry = defaultRegistry();

// The YAML parser warns (process.emitWarning, on a later tick) about odd input;
// fuzzing makes it by the hundred. This file runs in its own worker process.
beforeAll(() => {
  process.removeAllListeners('warning');
});

function issuesOf(raw: unknown): { path: string; message: string }[] {
  try {
    validateConfig(raw, registry, 'test', { env: {} });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

describe('config loader fuzzing', () => {
  it('answers arbitrary structures and environments with a config or a ConfigError (800 cases)', () => {
    fuzz('config.structure', 800, registry);
  });

  it('answers mutated valid configs with a config or a ConfigError (400 cases)', () => {
    const r = fuzz('config.mutated', 400, registry);
    expect(r.outcomes.refused).toBeGreaterThan(50);
    expect(r.outcomes.accepted).toBeGreaterThan(5); // some mutations hit optional settings: still valid
  });

  it('answers YAML texts (anchors, aliases, tags, merge keys, mutations) with a config or a ConfigError (400 cases)', () => {
    fuzz('config.yaml', 400, registry);
  });

  it('loads every valid config, as data and as YAML (300 cases)', () => {
    fuzz('config.valid', 300, registry);
  });
});

describe('config loader edge cases (found by fuzzing)', () => {
  it('reports a YAML alias inside its own anchor (a cycle) with its key, instead of overflowing the stack', () => {
    const raw = parseConfigText('exporters:\n  file: &x {path: /tmp/x, rotation: *x}\n', 'cyclic.yaml');
    const issues = issuesOf(raw);
    expect(issues).toContainEqual({ path: 'exporters.file.rotation', message: expect.stringContaining('refers to itself') });
  });

  it('still accepts the same anchor used twice (not a cycle)', () => {
    const raw = parseConfigText(
      'x: &p {max_megabytes: 5}\nexporters:\n  file/a: {path: /tmp/a, rotation: *p}\n  file/b: {path: /tmp/b, rotation: *p}\nservice: {pipelines: {logs: {exporters: [file/a, file/b]}}}\n',
      'shared.yaml',
    );
    delete (raw as Record<string, unknown>).x;
    const cfg = validateConfig(raw, registry, 'test', { env: {} });
    expect(cfg.exporters.get('file/b')!.config).toMatchObject({ rotation: { max_megabytes: 5 } });
  });

  it('refuses absurd nesting with a path instead of overflowing the stack', () => {
    let deep: unknown = {};
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    const issues = issuesOf({ exporters: { file: deep } });
    expect(issues[0].message).toMatch(/nested more than 64 levels deep/);
    expect(issues[0].path.startsWith('exporters.file.a.a.')).toBe(true);
  });

  it('treats a __proto__ key as a key (reported), never as a prototype that smuggles settings in', () => {
    const raw = parseConfigText('__proto__: {exporters: {file: {path: /tmp/x}}}\nservice: {pipelines: {logs: {exporters: [file]}}}\n', 'proto.yaml');
    const issues = issuesOf(raw);
    expect(issues).toContainEqual({ path: '__proto__', message: expect.stringContaining('unknown top-level section') });
    expect(issues).toContainEqual({ path: 'service.pipelines.logs.exporters.0', message: expect.stringContaining('not defined') });
    expect(({} as Record<string, unknown>).exporters).toBeUndefined();
  });

  it('names the file of invalid YAML', () => {
    expect(() => parseConfigText('a: [', 'broken.yaml')).toThrow(/broken\.yaml is not valid YAML/);
  });
});
