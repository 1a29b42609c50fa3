import { defineConfig } from 'vitest/config';
import RequireAllReporter from './test/helpers/require-all-reporter.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real servers, processes and fsync: generous per-test time, two workers for two cores.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // In CI (.ci/run sets VIGIL_REQUIRE_ALL=1) a skipped test fails the run.
    reporters: process.env.VIGIL_REQUIRE_ALL === '1' ? ['default', new RequireAllReporter()] : ['default'],
  },
});
