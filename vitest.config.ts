import { defineConfig } from 'vitest/config';
import RequireAllReporter from './test/helpers/require-all-reporter.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real servers, processes and fsync: generous per-test time, two workers for two cores. The budget
    // is for a CI machine several times slower than a workstation (some process-level tests took over
    // 40 s of a 60 s budget on a loaded one); a passing run is no slower for it.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
    // In CI (.ci/run sets VIGIL_REQUIRE_ALL=1) a skipped test fails the run.
    reporters: process.env.VIGIL_REQUIRE_ALL === '1' ? ['default', new RequireAllReporter()] : ['default'],
  },
});
