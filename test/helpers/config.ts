// The issues a config validation reports, for tests that assert on them.
import { expect } from 'vitest';
import { defaultRegistry } from '../../src/components.js';
import { ConfigError } from '../../src/config/errors.js';
import { validateConfig } from '../../src/config/load.js';

const registry = defaultRegistry();

/** Validates `raw` with the default components and returns its issues; fails the test if it is valid. */
export function issuesOf(raw: unknown, env: NodeJS.ProcessEnv = {}): { path: string; message: string }[] {
  try {
    validateConfig(raw, registry, 'test', { env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}
